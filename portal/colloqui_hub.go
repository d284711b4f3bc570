package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// roomHub relays the messages of the video rooms among their participants, wherever they are connected: every
// message goes through Redis pub/sub on the room's channel, so a resident on one portal node and the worker on
// another meet in one room. A node holds one subscription (one Redis connection) for all its rooms and, in
// memory, only its own connections; who is in a room, and whether admitted, is a Redis hash every node reads.
// Nothing is stored beyond the room's end: the hash and the set of admitted people expire an hour after it, and
// chat lines only pass through.
type roomHub struct {
	rdb    redis.UniversalClient
	prefix string
	log    *slog.Logger

	mu     sync.Mutex
	ps     *redis.PubSub
	rooms  map[string]*hubRoom // by channel
	closed bool
}

// hubRoom is one room's connections on this node.
type hubRoom struct {
	conns map[*roomConn]struct{}
	ready chan struct{} // closed when Redis confirms the subscription
	once  sync.Once
}

func newRoomHub(rdb redis.UniversalClient, prefix string, log *slog.Logger) *roomHub {
	return &roomHub{rdb: rdb, prefix: prefix + "room:", log: log, rooms: map[string]*hubRoom{}}
}

// busMsg is what travels on a room's channel. The sender's node sets From, Role, Identity and Name from the
// authorised connection, never from what the browser sent, so a node can trust them.
type busMsg struct {
	Kind     string          `json:"k"`           // peer, leave, admit, signal, chat, media, kick
	From     string          `json:"f,omitempty"` // the sender's peer ID
	To       string          `json:"t,omitempty"` // one peer, or everybody when empty
	Role     string          `json:"r,omitempty"`
	Identity string          `json:"i,omitempty"`
	Name     string          `json:"n,omitempty"`
	Admitted bool            `json:"a,omitempty"`
	Muted    *mediaState     `json:"m,omitempty"`
	Text     string          `json:"x,omitempty"`
	At       string          `json:"at,omitempty"`
	Data     json.RawMessage `json:"d,omitempty"`
}

// mediaState is which of a participant's devices are off.
type mediaState struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// peerInfo is a participant as the room's Redis hash keeps them, by peer ID.
type peerInfo struct {
	Identity string      `json:"identity"`
	Name     string      `json:"name"`
	Role     string      `json:"role"`
	Admitted bool        `json:"admitted"`
	Muted    *mediaState `json:"muted,omitempty"`
	Seen     int64       `json:"seen"` // unix seconds of the connection's last heartbeat
}

func (h *roomHub) channel(room string) string  { return h.prefix + room + ":bus" }
func (h *roomHub) peersKey(room string) string { return h.prefix + room + ":peers" }
func (h *roomHub) admittedKey(room string) string {
	return h.prefix + room + ":admitted"
}

// errHubClosed: the node is shutting down.
var errHubClosed = errors.New("colloqui: hub closed")

// join adds a connection to its room on this node, subscribing to the room's channel first if it is the node's
// first, and returns once Redis has confirmed the subscription: from then on no message to the room is missed.
func (h *roomHub) join(ctx context.Context, rc *roomConn) error {
	ch := h.channel(rc.room)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errHubClosed
	}
	r, ok := h.rooms[ch]
	if !ok {
		r = &hubRoom{conns: map[*roomConn]struct{}{}, ready: make(chan struct{})}
		h.rooms[ch] = r
		var err error
		if h.ps == nil {
			h.ps = h.rdb.Subscribe(context.Background(), ch)
			go h.receive(h.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)))
		} else {
			err = h.ps.Subscribe(ctx, ch)
		}
		if err != nil {
			delete(h.rooms, ch)
			h.mu.Unlock()
			return fmt.Errorf("colloqui: subscribe: %w", err)
		}
	}
	r.conns[rc] = struct{}{}
	h.mu.Unlock()
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		h.leave(rc)
		return fmt.Errorf("colloqui: subscribe: %w", ctx.Err())
	}
}

// leave removes a connection; the node unsubscribes from a room it no longer has anybody in.
func (h *roomHub) leave(rc *roomConn) {
	ch := h.channel(rc.room)
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.rooms[ch]
	if !ok {
		return
	}
	delete(r.conns, rc)
	if len(r.conns) == 0 {
		delete(h.rooms, ch)
		if h.ps != nil && !h.closed {
			if err := h.ps.Unsubscribe(context.Background(), ch); err != nil {
				h.log.Warn("colloqui: unsubscribe", "err", err)
			}
		}
	}
}

// receive hands each message of the subscription to this node's connections in its room.
func (h *roomHub) receive(in <-chan any) {
	for v := range in {
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			h.mu.Lock()
			if r, ok := h.rooms[m.Channel]; ok {
				r.once.Do(func() { close(r.ready) })
			}
			h.mu.Unlock()
		case *redis.Message:
			var msg busMsg
			if err := json.Unmarshal([]byte(m.Payload), &msg); err != nil {
				h.log.Warn("colloqui: bad bus message", "err", err)
				continue
			}
			h.mu.Lock()
			r, ok := h.rooms[m.Channel]
			var conns []*roomConn
			if ok {
				for rc := range r.conns {
					conns = append(conns, rc)
				}
			}
			h.mu.Unlock()
			for _, rc := range conns {
				rc.fromBus(msg)
			}
		}
	}
}

// publish sends a message to everybody in the room, on every node.
func (h *roomHub) publish(ctx context.Context, room string, m busMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := h.rdb.Publish(ctx, h.channel(room), b).Err(); err != nil {
		return fmt.Errorf("colloqui: publish: %w", err)
	}
	return nil
}

// peers returns the room's participants by peer ID, leaving out (and removing) those whose node stopped
// refreshing them: a node that died without saying goodbye.
func (h *roomHub) peers(ctx context.Context, room string, now time.Time) (map[string]peerInfo, error) {
	all, err := h.rdb.HGetAll(ctx, h.peersKey(room)).Result()
	if err != nil {
		return nil, fmt.Errorf("colloqui: peers: %w", err)
	}
	out := make(map[string]peerInfo, len(all))
	var stale []string
	for id, raw := range all {
		var p peerInfo
		if json.Unmarshal([]byte(raw), &p) != nil || now.Unix()-p.Seen > int64(peerStale/time.Second) {
			stale = append(stale, id)
			continue
		}
		out[id] = p
	}
	if len(stale) > 0 {
		if err := h.rdb.HDel(ctx, h.peersKey(room), stale...).Err(); err != nil {
			return nil, fmt.Errorf("colloqui: peers: %w", err)
		}
	}
	return out, nil
}

// setPeer writes a participant into the room's hash; the room's keys live until an hour after its end.
func (h *roomHub) setPeer(ctx context.Context, room, peer string, p peerInfo, ends time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	pipe := h.rdb.TxPipeline()
	pipe.HSet(ctx, h.peersKey(room), peer, b)
	pipe.ExpireAt(ctx, h.peersKey(room), ends.Add(time.Hour))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("colloqui: set peer: %w", err)
	}
	return nil
}

// removePeer takes a participant out of the room's hash.
func (h *roomHub) removePeer(ctx context.Context, room, peer string) error {
	if err := h.rdb.HDel(ctx, h.peersKey(room), peer).Err(); err != nil {
		return fmt.Errorf("colloqui: remove peer: %w", err)
	}
	return nil
}

// admit records that the worker let someone in: they stay admitted if they reconnect (another tab, another
// node) until the room's keys expire.
func (h *roomHub) admit(ctx context.Context, room, identity string, ends time.Time) error {
	pipe := h.rdb.TxPipeline()
	pipe.SAdd(ctx, h.admittedKey(room), identity)
	pipe.ExpireAt(ctx, h.admittedKey(room), ends.Add(time.Hour))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("colloqui: admit: %w", err)
	}
	return nil
}

// wasAdmitted reports whether the worker let this person in before.
func (h *roomHub) wasAdmitted(ctx context.Context, room, identity string) (bool, error) {
	ok, err := h.rdb.SIsMember(ctx, h.admittedKey(room), identity).Result()
	if err != nil {
		return false, fmt.Errorf("colloqui: admitted: %w", err)
	}
	return ok, nil
}

// close ends every connection of this node (they reconnect, through the load balancer, to a node still up) and
// the subscription.
func (h *roomHub) close() {
	h.mu.Lock()
	h.closed = true
	var conns []*roomConn
	for _, r := range h.rooms {
		for rc := range r.conns {
			conns = append(conns, rc)
		}
	}
	ps := h.ps
	h.mu.Unlock()
	for _, rc := range conns {
		rc.shutdown()
	}
	if ps != nil {
		_ = ps.Close()
	}
}
