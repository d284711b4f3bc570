package portal

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // coturn's REST credentials are HMAC-SHA1 by its definition
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Online colloqui: the video room of an online appointment. The booked resident enters at /colloqui/<id>, the
// assigned worker at /backoffice/colloqui/<id> (with the staff session), an invited mediator at
// /colloqui/invito/<secret>; each page has its WebSocket at the same address + /ws. Nobody else: not another
// resident, not a colleague of the worker (who sees the appointment in the calendar and may assign it to
// themselves there: then they are the worker), not a mediator without a valid invitation. Only from ten minutes
// before the appointment to its end, only while it is booked online. The same checks guard the page and the
// WebSocket, so a socket opened by hand is refused as the page is (403). Video and sound go from browser to
// browser (WebRTC, through TURN when no direct path exists); the portal only relays the signalling and the chat,
// and records nothing. With JITSI_URL set, the same door leads to a self-hosted Jitsi room instead (colloqui_jitsi.go).

const (
	colloquiPath      = "/colloqui"
	staffColloquiPath = "/backoffice/colloqui"
	inviteColloquio   = colloquiPath + "/invito/"
	// roomEarly is how long before the appointment the room opens: time to try camera and microphone.
	roomEarly = 10 * time.Minute
)

// Who someone is in a room.
const (
	roleResident = "resident"
	roleWorker   = "worker"
	roleMediator = "mediator"
)

// roomGuest is somebody at a room's door: the booking, and who they are for the room.
type roomGuest struct {
	Booking  storage.RoomBooking
	Role     string
	Identity string // p:<person>, s:<staff>, m:<invitation>: one connection each, a second tab takes over
	Name     string
	Path     string // the page's address; the WebSocket is at Path + "/ws"
}

func (g roomGuest) roomID() string { return strconv.FormatInt(g.Booking.ID, 10) }

// roomRefusal is why somebody who may enter a room cannot now: a message ID with its data.
type roomRefusal struct {
	Msg  string
	Data map[string]any
}

// roomCheck tells whether the room is open to its participants at now: the booking online, neither cancelled nor
// moved, from roomEarly before its start to its end.
func roomCheck(b storage.RoomBooking, now time.Time) *roomRefusal {
	switch {
	case b.Mode != "online":
		return &roomRefusal{Msg: "colloqui.refused.not_online"}
	case b.Status == storage.BookingCancelled:
		return &roomRefusal{Msg: "colloqui.refused.cancelled"}
	case b.Status == storage.BookingMoved:
		return &roomRefusal{Msg: "colloqui.refused.moved"}
	case now.Before(b.StartsAt.Add(-roomEarly)):
		opens := b.StartsAt.Add(-roomEarly).In(i18n.Rome)
		return &roomRefusal{Msg: "colloqui.refused.too_early", Data: map[string]any{"Time": opens.Format("15:04"), "Date": opens}}
	case !now.Before(b.EndsAt):
		return &roomRefusal{Msg: "colloqui.refused.ended"}
	}
	return nil
}

// errRoomRefused is the WebSocket's answer to anybody the page would refuse.
func errRoomRefused(cause error) error {
	return &Error{Status: fiber.StatusForbidden, Msg: "colloquio_refused", Cause: cause}
}

// errBadInvitation is an invitation link that opens nothing: mistyped, cut, revoked by a newer one, or forged.
func errBadInvitation(cause error) error {
	return &Error{Status: fiber.StatusNotFound, Msg: "colloquio_link", Cause: cause}
}

// residentGuest is the signed-in resident at the door of their own appointment's room; anyone else's does not
// exist for them (404).
func (s *Server) residentGuest(c *fiber.Ctx) (roomGuest, error) {
	person := personID(sessionOf(c))
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || person == 0 {
		return roomGuest{}, errNotFound(err)
	}
	b, err := s.DB.RoomBookingOf(c.UserContext(), id, person)
	if errors.Is(err, storage.ErrNotFound) {
		return roomGuest{}, errNotFound(err)
	}
	if err != nil {
		return roomGuest{}, err
	}
	name := b.ResidentName
	if name == "" {
		name = s.localizer(c).T("colloqui.role.resident")
	}
	return roomGuest{Booking: b, Role: roleResident, Identity: "p:" + strconv.FormatInt(person, 10), Name: name,
		Path: colloquiPath + "/" + strconv.FormatInt(id, 10)}, nil
}

// workerGuest is a staff member at the door of a room: an appointment outside their scope does not exist (404);
// one in scope but assigned to somebody else (or nobody) is refused, naming who may enter.
func (s *Server) workerGuest(c *fiber.Ctx, u *storage.StaffUser) (roomGuest, *roomRefusal, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || u == nil {
		return roomGuest{}, nil, errNotFound(err)
	}
	b, err := s.DB.RoomBookingInScope(c.UserContext(), u.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return roomGuest{}, nil, errNotFound(err)
	}
	if err != nil {
		return roomGuest{}, nil, err
	}
	g := roomGuest{Booking: b, Role: roleWorker, Identity: "s:" + strconv.FormatInt(u.ID, 10), Name: u.FullName,
		Path: staffColloquiPath + "/" + strconv.FormatInt(id, 10)}
	switch {
	case b.StaffID == 0:
		return g, &roomRefusal{Msg: "colloqui.refused.unassigned"}, nil
	case b.StaffID != u.ID:
		return g, &roomRefusal{Msg: "colloqui.refused.not_assigned", Data: map[string]any{"Name": b.WorkerName}}, nil
	}
	return g, nil, nil
}

// mediatorGuest is whoever holds a valid invitation's link.
func (s *Server) mediatorGuest(c *fiber.Ctx) (roomGuest, error) {
	secret := c.Params("token")
	h := linkHash(secret)
	if h == nil {
		return roomGuest{}, errBadInvitation(errors.New("colloqui: malformed invitation"))
	}
	b, inv, err := s.DB.RoomBookingByInvitation(c.UserContext(), h)
	if errors.Is(err, storage.ErrNotFound) {
		return roomGuest{}, errBadInvitation(err)
	}
	if err != nil {
		return roomGuest{}, err
	}
	return roomGuest{Booking: b, Role: roleMediator, Identity: "m:" + strconv.FormatInt(inv.ID, 10), Name: inv.Name,
		Path: inviteColloquio + secret}, nil
}

// iceServer is one entry of RTCPeerConnection's iceServers.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// iceServers are the STUN and TURN servers of the configuration. With TURN_SECRET (coturn's use-auth-secret) the
// TURN credentials are made for this room and expire an hour after it ends (coturn's REST API scheme:
// username "<expiry>:<name>", password base64(HMAC-SHA1(secret, username))), so a credential seen in a browser
// is worth little.
func (s *Server) iceServers(b storage.RoomBooking, now time.Time) []iceServer {
	v := s.Config.Video
	out := []iceServer{}
	if len(v.STUNURLs) > 0 {
		out = append(out, iceServer{URLs: v.STUNURLs})
	}
	if len(v.TURNURLs) > 0 {
		turn := iceServer{URLs: v.TURNURLs, Username: v.TURNUsername, Credential: v.TURNCredential}
		if v.TURNSecret != "" {
			end := b.EndsAt
			if now.After(end) {
				end = now
			}
			expires := end.Add(time.Hour).Unix()
			turn.Username = fmt.Sprintf("%d:colloquio%d", expires, b.ID)
			mac := hmac.New(sha1.New, []byte(v.TURNSecret))
			mac.Write([]byte(turn.Username))
			turn.Credential = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		}
		out = append(out, turn)
	}
	return out
}

// roomsOf are the online appointments whose room is open or will open: booked (or already marked), not over.
func roomsOf(all []storage.Booking, now time.Time) []storage.Booking {
	var out []storage.Booking
	for _, b := range all {
		if b.Mode == "online" && b.Status != storage.BookingCancelled && b.Status != storage.BookingMoved && now.Before(b.EndsAt) {
			out = append(out, b)
		}
	}
	return out
}
