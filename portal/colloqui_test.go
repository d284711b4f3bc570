package portal_test

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The colloqui tests book "aiuto per compilare una domanda" online at the Crema sportello on Tuesday 24 November
// 2026 (the tests' clock starts on Monday at 10:00 in Rome): its room opens at 08:50 for the 09:00 slot.

// personOf is the ID of the resident with this e-mail address.
func (e *env) personOf(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id FROM people WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// bookAt books a service at the Crema sportello for a person on Tuesday 24 November at hh:mm (Rome), in a mode,
// as the resident would have done the day before; it returns the booking.
func (e *env) bookAt(t *testing.T, person int64, service, mode string, hh, mm int) storage.Booking {
	t.Helper()
	at := time.Date(2026, 11, 24, hh, mm, 0, 0, i18n.Rome)
	n := alpha(person*1_000_000 + int64(len(service)*10_000+hh*100+mm)) // the confirm form's key: one per booking
	return e.bookSlot(t, person, service, mode, at, at.Add(-24*time.Hour), "BOOKAT"+strings.Repeat("A", 20-len(n))+n)
}

// setClock moves the portal's clock to a wall-clock time in Rome.
func (c *clock) set(at time.Time) { c.ns.Store(at.UnixNano()) }

func rome(day, hh, mm, ss int) time.Time { return time.Date(2026, 11, day, hh, mm, ss, 0, i18n.Rome) }

// roomSocket is a participant's WebSocket to a room, read frame by frame.
type roomSocket struct {
	t    *testing.T
	conn *websocket.Conn
}

// dialRoom opens a room's WebSocket on a listening portal with a cookie (name=value, or "" for none); on refusal it
// returns the HTTP status.
func dialRoom(t *testing.T, base, path, cookie string, header ...string) (*roomSocket, int) {
	t.Helper()
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, h)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	return &roomSocket{t: t, conn: conn}, http.StatusSwitchingProtocols
}

// next reads frames until one of type want arrives, and returns it.
func (s *roomSocket) next(want string) map[string]any {
	s.t.Helper()
	var skipped []string
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f map[string]any
		if err := s.conn.ReadJSON(&f); err != nil {
			s.t.Fatalf("waiting for %q (after %v): %v", want, skipped, err)
		}
		if f["type"] == want {
			return f
		}
		skipped = append(skipped, f["type"].(string))
	}
}

func (s *roomSocket) send(v any) {
	s.t.Helper()
	if err := s.conn.WriteJSON(v); err != nil {
		s.t.Fatal(err)
	}
}

// newStaffAs creates an operatore who signs in with the same password as another account (one argon2 hash less).
func (e *env) newStaffAs(t *testing.T, like *staffAccount, username string, scopes ...string) *staffAccount {
	t.Helper()
	u, err := e.db.StaffUserByID(t.Context(), like.id)
	if err != nil {
		t.Fatal(err)
	}
	a := &staffAccount{username: username, password: like.password}
	if a.id, err = e.db.CreateStaff(t.Context(), storage.NewStaff{Username: username, FullName: "Persona " + username,
		Role: "operatore", Scopes: scopes, PasswordHash: u.PasswordHash}); err != nil {
		t.Fatal(err)
	}
	return a
}

// setScope moves an operatore to other sub-ambiti; their next request sees it.
func (e *env) setScope(t *testing.T, a *staffAccount, scopes ...string) {
	t.Helper()
	if _, err := e.db.Pool.Exec(t.Context(), `DELETE FROM staff_scopes WHERE staff_id = $1`, a.id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(t.Context(), `INSERT INTO staff_scopes (staff_id, sub_ambito) SELECT $1, unnest($2::text[])`,
		a.id, scopes); err != nil {
		t.Fatal(err)
	}
}

func cookieOf(c *client, name string) string { return name + "=" + c.cookie(name) }

var inviteLinkRe = regexp.MustCompile(`id="invite-link" class="form-control" value="http://[^/]+(/colloqui/invito/[A-Za-z0-9_-]{43})"`)

// Who may enter an online appointment's room, and when: the booked resident, the assigned worker (by default the
// one whose own hours opened the slot; changed from the calendar) and the mediator they invite; from 10 minutes
// before to the end; never another resident, a colleague, staff of another sub-ambito, a stale invitation, a
// phone appointment or a cancelled one. The page and the WebSocket say the same.
func TestColloquioDoor(t *testing.T) {
	e, clk := newStaffEnv(t, withMail(), withVar("SESSION_MAX", "240h"), withVar("STUN_URLS", "stun:turn.example.it:3478"),
		withVar("TURN_URLS", "turn:turn.example.it:3478"), withVar("TURN_SECRET", "coturn-static-auth-secret"))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	mario := e.citizen(t, "mario@example.org", cfMario)
	op := e.newStaff(t, "op.video", "operatore", "crema")
	colleague := e.newStaffAs(t, op, "op.collega", "crema")
	// op receives "aiuto per compilare una domanda" on Tuesday mornings at Crema: the slot's default worker
	if _, err := e.db.Pool.Exec(t.Context(), `INSERT INTO availability (office, service, staff_id, weekday, starts, ends)
		VALUES ('sportello-crema', 'aiuto-domanda', $1, 2, '09:00', '12:30')`, op.id); err != nil {
		t.Fatal(err)
	}
	annaID := e.personOf(t, "anna@example.org")
	b := e.bookAt(t, annaID, "aiuto-domanda", "online", 9, 0)
	phone := e.bookAt(t, annaID, "segretariato-sociale", "phone", 9, 0)
	later := e.bookAt(t, annaID, "aiuto-domanda", "online", 9, 30)
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE staff_id = $1`, op.id); n != 2 {
		t.Errorf("%d bookings got op's as their default worker, want the two online ones of op's hours", n)
	}
	room := "/colloqui/" + strconv.FormatInt(b.ID, 10)
	staffRoom := "/backoffice/colloqui/" + strconv.FormatInt(b.ID, 10)

	// "I miei appuntamenti" and the appointment's page lead to the room
	_, body := anna.get("/appuntamenti")
	wantContains(t, body, `href="`+room+`"`, "Entra nella stanza")
	_, body = anna.get("/appuntamenti/" + strconv.FormatInt(b.ID, 10))
	wantContains(t, body, `href="`+room+`"`, "videochiamata qui sul portale")

	// so does the confirmation's link, through sign-in
	secret := strings.Repeat("Q", 43)
	sum := sha256.Sum256([]byte(secret))
	if _, err := e.db.Pool.Exec(t.Context(), `UPDATE bookings SET reschedule_token_hash = $2 WHERE id = $1`, b.ID, sum[:]); err != nil {
		t.Fatal(err)
	}
	guest := e.client(t)
	_, body = guest.get("/appuntamenti/gestisci/" + secret)
	wantContains(t, body, `href="`+room+`"`)
	resp, _ := guest.get(room)
	wantRedirect(t, resp, "/accesso?next="+url.QueryEscape(room))

	// Monday: too early, with the time the room opens
	resp, body = anna.get(room)
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "È presto: la stanza apre alle 08:50 del 24 novembre 2026")

	// Tuesday 08:55: open
	clk.set(rome(24, 8, 55, 0))
	resp, body = anna.get(room)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `data-ws="`+room+`/ws"`, "Nulla viene registrato", "Sala d&#39;attesa", "Riaggancia", `aria-pressed="true"`,
		`&#34;urls&#34;:[&#34;turn:turn.example.it:3478&#34;],&#34;username&#34;:&#34;`+strconv.FormatInt(b.EndsAt.Add(time.Hour).Unix(), 10))
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' ws://127.0.0.1:8080") {
		t.Errorf("the room's CSP: %s", csp)
	}
	resp, _ = mario.get(room)
	wantStatus(t, resp, http.StatusNotFound)
	resp, body = anna.get("/colloqui/" + strconv.FormatInt(phone.ID, 10))
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Questo appuntamento non è online")
	if _, err := e.db.CancelBooking(t.Context(), later.ID, annaID, clk.now()); err != nil {
		t.Fatal(err)
	}
	resp, body = anna.get("/colloqui/" + strconv.FormatInt(later.ID, 10))
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Questo appuntamento è stato annullato")
	resp, _ = anna.get(staffRoom)
	wantStatus(t, resp, http.StatusForbidden) // a resident on a back-office address

	base := e.listen(t) // for the WebSockets
	opc := e.signIn(t, clk, op)
	resp, body = opc.get(staffRoom)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `data-ws="`+staffRoom+`/ws"`, `data-role="worker"`, "Invita un mediatore culturale")
	_, body = opc.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24")
	wantContains(t, body, `href="`+staffRoom+`"`, "Persona op.video")
	colc := e.signIn(t, clk, colleague)
	resp, body = colc.get(staffRoom)
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "entra solo l&#39;operatore assegnato all&#39;appuntamento (Persona op.video)")
	e.setScope(t, colleague, "soncino") // the same account in another sub-ambito: the appointment does not exist
	resp, _ = colc.get(staffRoom)
	wantStatus(t, resp, http.StatusNotFound)
	if _, status := dialRoom(t, base, staffRoom+"/ws", cookieOf(colc, portal.StaffSessionCookie)); status != http.StatusForbidden {
		t.Errorf("staff of Soncino: WebSocket status %d, want 403", status)
	}
	e.setScope(t, colleague, "crema")

	// the mediator's invitation: a name is required (kept when wrong), the link is shown once; a new one replaces it
	resp, body = opc.post(staffRoom+"/invito", "nome", "   ")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scrivi il nome del mediatore.", `aria-invalid="true"`)
	resp, body = opc.post(staffRoom+"/invito", "nome", strings.Repeat("Samira ", 20))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "al massimo 100 caratteri", `value="`+strings.Repeat("Samira ", 20)+`"`)
	resp, _ = colc.post(staffRoom+"/invito", "nome", "Qualcuno")
	wantStatus(t, resp, http.StatusForbidden)
	_, body = opc.post(staffRoom+"/invito", "nome", "Samira, mediatrice")
	first := inviteLinkRe.FindStringSubmatch(body)
	if first == nil {
		t.Fatalf("no invitation link:\n%s", body)
	}
	_, body = opc.post(staffRoom+"/invito", "nome", "Samira, mediatrice")
	m := inviteLinkRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no second invitation link")
	}
	invite := m[1]
	resp, body = guest.get(first[1])
	wantStatus(t, resp, http.StatusNotFound)
	wantContains(t, body, "Invito non valido")
	resp, _ = guest.get("/colloqui/invito/not-a-secret")
	wantStatus(t, resp, http.StatusNotFound)
	resp, body = guest.get(invite)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `data-role="mediator"`, `data-ws="`+invite+`/ws"`)

	// the WebSockets: refused with 403 to whoever the page refuses, and to another site's page
	for _, refused := range []struct{ who, path, cookie string }{
		{"nobody", room + "/ws", ""},
		{"another resident", room + "/ws", cookieOf(mario, portal.SessionCookie)},
		{"a colleague", staffRoom + "/ws", cookieOf(colc, portal.StaffSessionCookie)},
		{"a resident as staff", staffRoom + "/ws", cookieOf(anna, portal.SessionCookie)},
		{"a stale invitation", first[1] + "/ws", ""},
		{"a cancelled booking", "/colloqui/" + strconv.FormatInt(later.ID, 10) + "/ws", cookieOf(anna, portal.SessionCookie)},
	} {
		if _, status := dialRoom(t, base, refused.path, refused.cookie); status != http.StatusForbidden {
			t.Errorf("%s: WebSocket status %d, want 403", refused.who, status)
		}
	}
	if _, status := dialRoom(t, base, room+"/ws", cookieOf(anna, portal.SessionCookie), "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("a WebSocket from another site's page: status %d", status)
	}

	// the resident waits and sees only whether the worker is there; the worker sees her waiting and admits her
	res, _ := dialRoom(t, base, room+"/ws", cookieOf(anna, portal.SessionCookie))
	w := res.next("welcome")
	if w["admitted"] != false || len(w["peers"].([]any)) != 0 {
		t.Fatalf("the resident's welcome: %v", w)
	}
	wrk, _ := dialRoom(t, base, staffRoom+"/ws", cookieOf(opc, portal.StaffSessionCookie))
	w = wrk.next("welcome")
	peers := w["peers"].([]any)
	if w["admitted"] != true || len(peers) != 1 || peers[0].(map[string]any)["admitted"] != false {
		t.Fatalf("the worker's welcome: %v", w)
	}
	annaPeer := peers[0].(map[string]any)["peer"].(string)
	if p := res.next("peer"); p["role"] != "worker" || p["name"] != "Persona op.video" {
		t.Errorf("the resident was told of %v", p)
	}
	med, _ := dialRoom(t, base, invite+"/ws", "")
	if w := med.next("welcome"); w["admitted"] != false || len(w["peers"].([]any)) != 1 {
		t.Errorf("the mediator's welcome: %v", w)
	}
	medPeer := wrk.next("peer")["peer"].(string)
	med.send(map[string]any{"type": "chat", "text": "si sente?"}) // still waiting: goes nowhere

	wrk.send(map[string]any{"type": "admit", "to": annaPeer})
	if a := res.next("admitted"); len(a["peers"].([]any)) != 2 {
		t.Errorf("once admitted the resident sees the worker and the mediator waiting: %v", a)
	}
	if p := wrk.next("peer"); p["peer"] != annaPeer || p["admitted"] != true {
		t.Errorf("the worker was told %v", p)
	}
	res.send(map[string]any{"type": "signal", "to": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "data": map[string]any{"x": 1}})
	res.send(map[string]any{"type": "admit", "to": medPeer}) // only the worker admits
	res.send(map[string]any{"type": "chat", "text": "Buongiorno"})
	for _, s := range []*roomSocket{res, wrk} {
		if c := s.next("chat"); c["text"] != "Buongiorno" || c["name"] != "Anna Test" || c["at"] != "08:55" || c["mine"] != (s == res) {
			t.Errorf("chat: %v", c)
		}
	}
	// (a browser's messages are handled in order: the admit was refused before the chat went out)
	if in, err := e.srv.Redis.SMembers(t.Context(), e.prefix+"room:"+strconv.FormatInt(b.ID, 10)+":admitted").Result(); err != nil ||
		len(in) != 1 || in[0] != "p:"+strconv.FormatInt(annaID, 10) {
		t.Errorf("admitted: %v %v", in, err)
	}
	// the signalling: to one peer only, and only among admitted people
	wrk.send(map[string]any{"type": "signal", "to": annaPeer, "data": map[string]any{"sdp": map[string]any{"type": "offer", "sdp": "v=0"}}})
	if s := res.next("signal"); s["from"] == "" || s["data"].(map[string]any)["sdp"] == nil {
		t.Errorf("signal: %v", s)
	}
	// the worker admits the mediator; her waiting chat never reached anybody
	wrk.send(map[string]any{"type": "admit", "to": medPeer})
	if a := med.next("admitted"); len(a["peers"].([]any)) != 2 {
		t.Errorf("the mediator, admitted: %v", a)
	}
	med.send(map[string]any{"type": "chat", "text": "Eccomi"})
	if c := res.next("chat"); c["text"] != "Eccomi" || c["role"] != "mediator" {
		t.Errorf("the first chat line after the resident's own: %v", c)
	}
	med.send(map[string]any{"type": "media", "muted": map[string]any{"audio": true, "video": false}})
	if m := wrk.next("media"); m["peer"] != medPeer || m["muted"].(map[string]any)["audio"] != true {
		t.Errorf("media: %v", m)
	}

	// the same resident from another tab takes over: the first tab is told, and is admitted again at once
	res2, _ := dialRoom(t, base, room+"/ws", cookieOf(anna, portal.SessionCookie))
	if w := res2.next("welcome"); w["admitted"] != true {
		t.Errorf("back in another tab: %v", w)
	}
	res.next("replaced")
	if l := wrk.next("leave"); l["peer"] != annaPeer {
		t.Errorf("leave: %v", l)
	}

	// a colleague assigns the appointment to themselves: from then on they enter, op does not
	resp, _ = colc.post("/backoffice/appuntamenti/"+strconv.FormatInt(b.ID, 10)+"/operatore", "assegna", strconv.FormatInt(colleague.id, 10),
		"sede", "sportello-crema", "giorno", "2026-11-24")
	wantRedirect(t, resp, "/backoffice/appuntamenti?giorno=2026-11-24&sede=sportello-crema")
	soncino, err := e.db.CreateStaff(t.Context(), storage.NewStaff{Username: "op.soncino", FullName: "Persona op.soncino",
		Role: "operatore", Scopes: []string{"soncino"}, PasswordHash: "$argon2id$never-signs-in"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = colc.post("/backoffice/appuntamenti/"+strconv.FormatInt(b.ID, 10)+"/operatore", "assegna", strconv.FormatInt(soncino, 10),
		"sede", "sportello-crema", "giorno", "2026-11-24")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "l&#39;operatore non lavora in questa sede")
	resp, _ = colc.get(staffRoom)
	wantStatus(t, resp, http.StatusOK)
	resp, _ = opc.get(staffRoom)
	wantStatus(t, resp, http.StatusForbidden)
	e.setScope(t, colleague, "soncino")
	resp, _ = colc.post("/backoffice/appuntamenti/"+strconv.FormatInt(b.ID, 10)+"/operatore", "assegna", "")
	wantStatus(t, resp, http.StatusNotFound) // out of scope: cannot even take it off
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action IN ('booking.assign', 'colloquio.invite')`); n != 3 {
		t.Errorf("%d assignments and invitations audited, want 3", n)
	}

	// the room closes at the end: a connection in its last second is told, and then nobody enters
	clk.set(rome(24, 9, 29, 59))
	last, _ := dialRoom(t, base, room+"/ws", cookieOf(anna, portal.SessionCookie))
	last.next("ended")
	clk.set(rome(24, 9, 30, 0))
	resp, body = anna.get(room)
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "L&#39;appuntamento è finito")
	if _, status := dialRoom(t, base, room+"/ws", cookieOf(anna, portal.SessionCookie)); status != http.StatusForbidden {
		t.Errorf("after the end: WebSocket status %d", status)
	}
}
