package portal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	fastws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// One participant's WebSocket in a video room: the room's signalling (WebRTC offers, answers and ICE candidates,
// addressed to one peer), the waiting room (the worker admits people), the text chat and who has their camera or
// microphone off. The server decides what each connection may send and see: somebody still waiting sends nothing
// to the room and sees only whether the worker is there; only the worker admits; signals and chat flow among
// admitted people only.

const (
	peerHeartbeat = 20 * time.Second // how often a connection refreshes its row in the room's hash, and pings
	peerStale     = 75 * time.Second // a row not refreshed for this long belongs to a node that died
	wsReadLimit   = 64 << 10         // an SDP offer is a few KB; anything larger is not ours
	wsWriteWait   = 10 * time.Second
	chatMaxRunes  = 1000
	// msgsPerSecond bounds what one browser may send (ICE candidates come in bursts of a few dozen).
	msgsPerSecond = 100
)

var peerIDRe = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// roomConn is one participant's connection.
type roomConn struct {
	s     *Server
	ws    *fastws.Conn // the connection itself: contrib's wrapper goes back to its pool when serveRoom returns
	room  string       // the booking's ID
	guest roomGuest
	peer  string // random per connection

	admitted atomic.Bool
	bus      chan busMsg // from the hub, handled by pump
	out      chan any    // frames to the browser, written by pump
	done     chan struct{}
	pumped   chan struct{} // closed when pump has returned
	stop     sync.Once
	ended    chan string // why the server closes: ended, replaced, restart
}

// serveRoom runs a participant's connection until either side closes it.
func (s *Server) serveRoom(ws *websocket.Conn, g roomGuest) {
	rc := &roomConn{s: s, ws: ws.Conn, room: g.roomID(), guest: g, peer: rand.Text(), bus: make(chan busMsg, 256),
		out: make(chan any, 64), done: make(chan struct{}), pumped: make(chan struct{}), ended: make(chan string, 1)}
	rc.ws.SetReadLimit(wsReadLimit)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := rc.enter(ctx)
	cancel()
	if err != nil {
		s.Log.Error("colloqui: enter room", "err", err)
		_ = rc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "unavailable"),
			time.Now().Add(wsWriteWait))
		return
	}
	go rc.pump()
	rc.read()
	rc.close()
	<-rc.pumped // nothing may touch the connection once this handler returns
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.rooms.leave(rc)
	if err := s.rooms.removePeer(ctx, rc.room, rc.peer); err != nil {
		s.Log.Warn("colloqui: leave", "err", err)
	}
	if err := s.rooms.publish(ctx, rc.room, busMsg{Kind: "leave", From: rc.peer, Role: g.Role}); err != nil {
		s.Log.Warn("colloqui: leave", "err", err)
	}
}

// enter subscribes to the room, takes the place of the same person's older connection (another tab), tells the
// room, and welcomes the browser with who is there.
func (rc *roomConn) enter(ctx context.Context) error {
	h := rc.s.rooms
	if err := h.join(ctx, rc); err != nil {
		return err
	}
	now := rc.s.now()
	peers, err := h.peers(ctx, rc.room, now)
	if err != nil {
		return err
	}
	for id, p := range peers {
		if p.Identity == rc.guest.Identity {
			if err := h.publish(ctx, rc.room, busMsg{Kind: "kick", To: id}); err != nil {
				return err
			}
			if err := h.removePeer(ctx, rc.room, id); err != nil {
				return err
			}
			delete(peers, id)
		}
	}
	admitted := rc.guest.Role == roleWorker
	if !admitted {
		if admitted, err = h.wasAdmitted(ctx, rc.room, rc.guest.Identity); err != nil {
			return err
		}
	}
	rc.admitted.Store(admitted)
	if err := h.setPeer(ctx, rc.room, rc.peer, rc.info(now), rc.guest.Booking.EndsAt); err != nil {
		return err
	}
	if err := h.publish(ctx, rc.room, rc.presence()); err != nil {
		return err
	}
	rc.out <- map[string]any{"type": "welcome", "you": rc.peer, "role": rc.guest.Role, "admitted": admitted,
		"peers": rc.visible(peers)}
	return nil
}

func (rc *roomConn) info(now time.Time) peerInfo {
	return peerInfo{Identity: rc.guest.Identity, Name: rc.guest.Name, Role: rc.guest.Role, Admitted: rc.admitted.Load(),
		Seen: now.Unix()}
}

func (rc *roomConn) presence() busMsg {
	return busMsg{Kind: "peer", From: rc.peer, Role: rc.guest.Role, Name: rc.guest.Name, Admitted: rc.admitted.Load()}
}

// visible is what this connection may know of the others: everybody once admitted; before, only the worker.
func (rc *roomConn) visible(peers map[string]peerInfo) []map[string]any {
	out := []map[string]any{}
	for id, p := range peers {
		if id == rc.peer || (!rc.admitted.Load() && p.Role != roleWorker) {
			continue
		}
		out = append(out, peerFrame(id, p.Name, p.Role, p.Admitted, p.Muted))
	}
	return out
}

func peerFrame(id, name, role string, admitted bool, muted *mediaState) map[string]any {
	f := map[string]any{"type": "peer", "peer": id, "name": name, "role": role, "admitted": admitted}
	if muted != nil {
		f["muted"] = muted
	}
	return f
}

// fromBus queues a message of the room for this connection; a connection that cannot keep up is closed.
func (rc *roomConn) fromBus(m busMsg) {
	select {
	case rc.bus <- m:
	case <-rc.done:
	default:
		rc.s.Log.Warn("colloqui: connection too slow, closed")
		rc.close()
	}
}

// clientMsg is what a browser sends.
type clientMsg struct {
	Type  string          `json:"type"`
	To    string          `json:"to"`
	Data  json.RawMessage `json:"data"`
	Text  string          `json:"text"`
	Muted *mediaState     `json:"muted"`
}

// read handles the browser's messages until it goes away; what it may not send is dropped.
func (rc *roomConn) read() {
	rc.ws.SetPongHandler(func(string) error {
		return rc.ws.SetReadDeadline(time.Now().Add(peerStale))
	})
	window, count := time.Now(), 0
	for {
		_ = rc.ws.SetReadDeadline(time.Now().Add(peerStale))
		_, raw, err := rc.ws.ReadMessage()
		if err != nil {
			return
		}
		if time.Since(window) > time.Second {
			window, count = time.Now(), 0
		}
		if count++; count > msgsPerSecond {
			rc.s.Log.Warn("colloqui: too many messages, closed")
			return
		}
		var m clientMsg
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		if err := rc.handle(m); err != nil {
			rc.s.Log.Warn("colloqui: message", "type", m.Type, "err", err)
			if errors.Is(err, errHubClosed) {
				return
			}
		}
	}
}

func (rc *roomConn) handle(m clientMsg) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := rc.s.rooms
	if !rc.admitted.Load() {
		return nil // waiting: nothing to say to the room yet
	}
	switch m.Type {
	case "admit":
		if rc.guest.Role != roleWorker || !peerIDRe.MatchString(m.To) {
			return nil
		}
		peers, err := h.peers(ctx, rc.room, rc.s.now())
		if err != nil {
			return err
		}
		p, ok := peers[m.To]
		if !ok || p.Admitted {
			return nil
		}
		if err := h.admit(ctx, rc.room, p.Identity, rc.guest.Booking.EndsAt); err != nil {
			return err
		}
		return h.publish(ctx, rc.room, busMsg{Kind: "admit", From: rc.peer, To: m.To, Role: rc.guest.Role})
	case "signal":
		if !peerIDRe.MatchString(m.To) || len(m.Data) == 0 || m.To == rc.peer {
			return nil
		}
		return h.publish(ctx, rc.room, busMsg{Kind: "signal", From: rc.peer, To: m.To, Role: rc.guest.Role, Admitted: true, Data: m.Data})
	case "chat":
		text := strings.TrimSpace(strings.ToValidUTF8(m.Text, ""))
		if text == "" || utf8.RuneCountInString(text) > chatMaxRunes {
			return nil
		}
		return h.publish(ctx, rc.room, busMsg{Kind: "chat", From: rc.peer, Role: rc.guest.Role, Name: rc.guest.Name, Admitted: true,
			Text: text, At: rc.s.now().In(i18n.Rome).Format("15:04")})
	case "media":
		if m.Muted == nil {
			return nil
		}
		info := rc.info(rc.s.now())
		info.Muted = m.Muted
		if err := h.setPeer(ctx, rc.room, rc.peer, info, rc.guest.Booking.EndsAt); err != nil {
			return err
		}
		return h.publish(ctx, rc.room, busMsg{Kind: "media", From: rc.peer, Role: rc.guest.Role, Admitted: true, Muted: m.Muted})
	}
	return nil
}

// pump is the connection's only writer: the room's messages as this participant may see them, pings and the
// heartbeat of its row in the room's hash, and the room's end.
func (rc *roomConn) pump() {
	defer close(rc.pumped)
	tick := time.NewTicker(peerHeartbeat)
	defer tick.Stop()
	end := time.NewTimer(max(rc.guest.Booking.EndsAt.Sub(rc.s.now()), 0))
	defer end.Stop()
	for {
		select {
		case f := <-rc.out:
			if !rc.write(f) {
				return
			}
		case m := <-rc.bus:
			if !rc.onBus(m) {
				return
			}
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := rc.s.rooms.setPeer(ctx, rc.room, rc.peer, rc.info(rc.s.now()), rc.guest.Booking.EndsAt)
			cancel()
			if err != nil {
				rc.s.Log.Warn("colloqui: heartbeat", "err", err)
			}
			if rc.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)) != nil {
				rc.close()
				return
			}
		case <-end.C:
			rc.finish("ended", websocket.CloseNormalClosure)
			return
		case why := <-rc.ended:
			code := websocket.CloseNormalClosure
			if why == "restart" {
				code = websocket.CloseServiceRestart
			}
			rc.finish(why, code)
			return
		case <-rc.done:
			return
		}
	}
}

// onBus turns a room's message into what this browser may see; false when the connection is over.
func (rc *roomConn) onBus(m busMsg) bool {
	if m.To != "" && m.To != rc.peer {
		return true
	}
	admitted := rc.admitted.Load()
	switch m.Kind {
	case "kick":
		rc.finish("replaced", websocket.ClosePolicyViolation)
		return false
	case "peer", "leave":
		if m.From == rc.peer || (!admitted && m.Role != roleWorker) {
			return true
		}
		if m.Kind == "leave" {
			return rc.write(map[string]any{"type": "leave", "peer": m.From})
		}
		return rc.write(peerFrame(m.From, m.Name, m.Role, m.Admitted, m.Muted))
	case "admit":
		if admitted || m.Role != roleWorker {
			return true
		}
		return rc.letIn()
	case "signal":
		if !admitted || !m.Admitted || m.From == rc.peer {
			return true
		}
		return rc.write(map[string]any{"type": "signal", "from": m.From, "data": m.Data})
	case "chat":
		if !admitted || !m.Admitted {
			return true
		}
		return rc.write(map[string]any{"type": "chat", "from": m.From, "name": m.Name, "role": m.Role, "text": m.Text,
			"at": m.At, "mine": m.From == rc.peer})
	case "media":
		if !admitted || m.From == rc.peer {
			return true
		}
		return rc.write(map[string]any{"type": "media", "peer": m.From, "muted": m.Muted})
	}
	return true
}

// letIn admits this connection: the worker said so. It tells the browser who is in the room, and the room that
// one more person is in.
func (rc *roomConn) letIn() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc.admitted.Store(true)
	now := rc.s.now()
	h := rc.s.rooms
	err := h.setPeer(ctx, rc.room, rc.peer, rc.info(now), rc.guest.Booking.EndsAt)
	var peers map[string]peerInfo
	if err == nil {
		peers, err = h.peers(ctx, rc.room, now)
	}
	if err == nil {
		err = h.publish(ctx, rc.room, rc.presence())
	}
	if err != nil {
		rc.s.Log.Error("colloqui: admit", "err", err)
		return false
	}
	return rc.write(map[string]any{"type": "admitted", "peers": rc.visible(peers)})
}

// write sends one frame; false when the browser is gone.
func (rc *roomConn) write(f any) bool {
	_ = rc.ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
	if err := rc.ws.WriteJSON(f); err != nil {
		rc.close()
		return false
	}
	return true
}

// finish tells the browser why the room closes (ended, replaced, restart) and closes the connection.
func (rc *roomConn) finish(why string, code int) {
	rc.write(map[string]any{"type": why})
	_ = rc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(wsWriteWait))
	rc.close()
}

// shutdown asks the pump to close the connection because this node is stopping.
func (rc *roomConn) shutdown() {
	select {
	case rc.ended <- "restart":
	default:
	}
}

// close ends the connection once; the reader returns and the participant leaves the room. Closing a hijacked
// fasthttp connection from another goroutine does nothing until its handler returns, so the reader is woken by
// a deadline in the past; the connection itself closes when serveRoom returns.
func (rc *roomConn) close() {
	rc.stop.Do(func() {
		close(rc.done)
		_ = rc.ws.SetReadDeadline(time.Now())
	})
}
