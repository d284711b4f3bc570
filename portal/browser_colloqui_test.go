package portal_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// setCookie gives a page the session of a user signed in through the handlers (a shortcut past sign-in pages,
// which their own browser tests cover).
func setCookie(t *testing.T, p *browsertest.Page, base, name, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), browsertest.DefaultTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: base + "/"})
	}); err != nil {
		t.Fatal(err)
	}
}

// waitJS waits until a JavaScript condition holds on the page.
func waitJS(t *testing.T, p *browsertest.Page, what, cond string) {
	t.Helper()
	testenv.WaitFor(t, 15*time.Second, what, func() error {
		var ok bool
		p.Eval(t, "!!("+cond+")", &ok)
		if !ok {
			return errFalse
		}
		return nil
	})
}

type falseErr struct{}

func (falseErr) Error() string { return "not yet" }

var errFalse = falseErr{}

// An online colloquio with two real browsers, each with a fake camera and microphone, on two portal nodes that
// share PostgreSQL and Redis: the resident (Arabic, phone size, on the second node) is refused before the room
// opens, then waits; the worker (Italian, first node) admits her; their RTCPeerConnections reach "connected" and
// video flows; they chat both ways; she turns her microphone off and the worker sees it; another resident is
// refused, page and WebSocket; she hangs up; after the end the room is closed. axe-core checks the refusal, the
// waiting room and the room (TestBrowserColloquioInvite has the waiting room in Italian).
func TestBrowserColloquio(t *testing.T) {
	e, clk := newStaffEnv(t, withMail(), withVar("SESSION_MAX", "240h"))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	mario := e.citizen(t, "mario@example.org", cfMario)
	op := e.newStaff(t, "op.video", "operatore", "crema")
	if _, err := e.db.Pool.Exec(t.Context(), `INSERT INTO availability (office, service, staff_id, weekday, starts, ends)
		VALUES ('sportello-crema', 'aiuto-domanda', $1, 2, '09:00', '12:30')`, op.id); err != nil {
		t.Fatal(err)
	}
	b := e.bookAt(t, e.personOf(t, "anna@example.org"), "aiuto-domanda", "online", 9, 0)
	room := "/colloqui/" + strconv.FormatInt(b.ID, 10)
	base := e.listen(t)
	d := e.srv.Deps // a second node: the resident's requests and WebSocket go there, the worker's to the first
	d.Registry = prometheus.NewRegistry()
	node2, err := portal.New(d)
	if err != nil {
		t.Fatal(err)
	}
	base2 := (&env{srv: node2}).listen(t)

	workerBrowser := browsertest.Launch(t, browsertest.WithFakeMedia())
	worker := workerBrowser.NewPage(t, browsertest.WithLanguage("it"))
	resident := browsertest.Launch(t, browsertest.WithFakeMedia()).NewPage(t, browsertest.WithLanguage("ar"))
	anna.post("/lingua", "lang", "ar") // her session's language, as the switcher sets it
	setCookie(t, resident, base2, portal.SessionCookie, anna.cookie(portal.SessionCookie))

	// Monday: too early
	checkPage(t, resident, "rtl", http.StatusForbidden, resident.Navigate(t, base2+room))
	if !strings.Contains(resident.Text(t, "main"), "08:50") {
		t.Errorf("the refusal does not say when the room opens: %s", resident.Text(t, "main"))
	}

	// Tuesday 08:55: the resident waits; the worker sees her and lets her in
	clk.set(rome(24, 8, 55, 0))
	opc := e.signIn(t, clk, op)
	setCookie(t, worker, base, portal.StaffSessionCookie, opc.cookie(portal.StaffSessionCookie))
	if status := resident.Navigate(t, base2+room); status != http.StatusOK {
		t.Fatalf("the resident's room: status %d", status)
	}
	resident.WaitVisible(t, "#room-waiting")
	if status := worker.Navigate(t, base+"/backoffice"+room); status != http.StatusOK {
		t.Fatalf("the worker's room: status %d", status)
	}
	worker.WaitVisible(t, "#room-lobby-list button")
	waitJS(t, resident, "the resident told the worker is there", `document.querySelector('#room-worker').textContent.includes('Persona op.video')`)
	checkPage(t, resident, "rtl", http.StatusOK, http.StatusOK) // the waiting room
	checkPage(t, worker, "ltr", http.StatusOK, http.StatusOK)   // the room, with somebody waiting
	worker.Click(t, "#room-lobby-list button")
	resident.WaitVisible(t, "#room-chat")

	// the peer connections reach "connected", and each sees the other's camera
	for _, p := range []*browsertest.Page{worker, resident} {
		waitJS(t, p, "a connected peer with video", `(() => { const li = document.querySelector('li.room-tile[data-state="connected"]');
			return li && li.querySelector('video').videoWidth > 0; })()`)
	}
	if got := worker.Text(t, "#room-status"); !strings.Contains(got, "Anna Test è entrato nella stanza") {
		t.Errorf("the worker was not told who came in: %q", got)
	}

	// chat both ways, announced in a live region (role=log)
	resident.SetValue(t, "#room-chat-text", "صباح الخير")
	resident.Click(t, "#room-chat-form button")
	waitJS(t, worker, "the resident's line", `document.querySelector('#room-chat-log').textContent.includes('صباح الخير')`)
	worker.SetValue(t, "#room-chat-text", "Buongiorno Anna")
	worker.Click(t, "#room-chat-form button")
	waitJS(t, resident, "the worker's line", `document.querySelector('#room-chat-log').textContent.includes('Buongiorno Anna')`)
	checkPage(t, resident, "rtl", http.StatusOK, http.StatusOK) // the room in Arabic, with the chat
	checkPage(t, worker, "ltr", http.StatusOK, http.StatusOK)

	// the microphone off: a pressed button no more, and the worker sees it
	resident.Click(t, "#room-mic")
	if resident.Attr(t, "#room-mic", "aria-pressed") != "false" {
		t.Error("the microphone button is still pressed")
	}
	waitJS(t, worker, "the resident's microphone off", `document.querySelector('li.room-tile[data-peer]').textContent.includes('microfono spento')`)

	// another resident: refused, the page and the WebSocket
	other := workerBrowser.NewPage(t) // a context of its own: its own cookies
	setCookie(t, other, base, portal.SessionCookie, mario.cookie(portal.SessionCookie))
	if status := other.Navigate(t, base+room); status != http.StatusNotFound {
		t.Errorf("another resident: status %d", status)
	}
	var closed string
	other.Eval(t, `new Promise(r => { const w = new WebSocket('ws://' + location.host + '`+room+`/ws');
		w.onopen = () => r('open'); w.onclose = e => r('closed ' + e.code); })`, &closed)
	if closed != "closed 1006" {
		t.Errorf("another resident's WebSocket: %s", closed)
	}

	// she hangs up: the worker is told
	resident.Click(t, "#room-leave")
	resident.WaitVisible(t, "#room-over")
	waitJS(t, worker, "the worker told she left", `document.querySelector('#room-status').textContent.includes('Anna Test è uscito')`)

	// after the end the room is closed
	clk.set(rome(24, 9, 30, 0))
	if status := resident.Navigate(t, base2+room); status != http.StatusForbidden {
		t.Errorf("after the end: status %d", status)
	}
}

// The worker invites a mediator, in Italian and in Arabic, at phone size with axe-core: the invitation page, a
// missing name refused next to the field, the link shown once (a second one replaces the first); the mediator
// opens the last and waits (in a browser without camera or microphone, which the page explains) for the worker,
// not connected yet.
func TestBrowserColloquioInvite(t *testing.T) {
	e, clk := newStaffEnv(t, withVar("SESSION_MAX", "240h"))
	op := e.newStaff(t, "op.video", "operatore", "crema")
	var person int64
	if err := e.db.Pool.QueryRow(t.Context(), `INSERT INTO people (fiscal_code, given_name, family_name)
		VALUES ($1, 'Anna', 'Bianchi') RETURNING id`, cfAnna).Scan(&person); err != nil {
		t.Fatal(err)
	}
	b := e.bookAt(t, person, "aiuto-domanda", "online", 9, 0)
	if _, err := e.db.Pool.Exec(t.Context(), `UPDATE bookings SET staff_id = $2 WHERE id = $1`, b.ID, op.id); err != nil {
		t.Fatal(err)
	}
	invite := "/backoffice/colloqui/" + strconv.FormatInt(b.ID, 10) + "/invito"
	clk.set(rome(24, 8, 55, 0))
	opc := e.signIn(t, clk, op)
	base := e.listen(t)
	var path string // the last invitation's
	for _, lang := range browserLanguages {
		t.Run(lang.code, func(t *testing.T) {
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			setCookie(t, page, base, portal.StaffSessionCookie, opc.cookie(portal.StaffSessionCookie))
			check(http.StatusOK, page.Navigate(t, base+invite))
			page.SetValue(t, "#nome", "  ")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#nome"))
			if page.Attr(t, "#nome", "aria-invalid") != "true" {
				t.Error("the missing name is not marked")
			}
			page.SetValue(t, "#nome", "Samira")
			if status := page.Submit(t, "#nome"); status != http.StatusOK || !page.Exists(t, `label[for="invite-link"]`) {
				t.Fatalf("the invitation: status %d", status)
			}
			link := page.Attr(t, "#invite-link", "value")
			if !strings.HasPrefix(link, "http://") || !strings.Contains(link, "/colloqui/invito/") {
				t.Fatalf("invitation link %q", link)
			}
			path = link[strings.Index(link, "/colloqui/"):]
		})
	}

	// the mediator, in Italian (the Arabic waiting room is the resident's in TestBrowserColloquio)
	mediator := chromium.Browser(t).NewPage(t, browsertest.WithLanguage("it"))
	checkPage(t, mediator, "ltr", http.StatusOK, mediator.Navigate(t, base+path))
	mediator.WaitVisible(t, "#room-waiting")
	waitJS(t, mediator, "no camera explained", `document.querySelector('#room-mic').disabled && document.querySelector('#room-status').textContent !== ''`)
	checkPage(t, mediator, "ltr", http.StatusOK, http.StatusOK) // the waiting room, the worker not there yet
}
