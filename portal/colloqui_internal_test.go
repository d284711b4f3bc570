package portal

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // coturn's scheme
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The Jitsi door: each participant is sent to the booking's room with a token signed with the app secret (HS256),
// valid for minutes, naming the room and the person; only the worker is moderator.
func TestJitsiToken(t *testing.T) {
	secret := strings.Repeat("k", 40)
	s := &Server{Deps: Deps{Config: &config.Config{Video: config.Video{JitsiURL: "https://meet.example.it",
		JitsiAppID: "csc-portal", JitsiAppSecret: secret}}}}
	now := time.Date(2026, 11, 24, 8, 55, 0, 0, time.UTC)
	b := storage.RoomBooking{ID: 42, StartsAt: now.Add(5 * time.Minute), EndsAt: now.Add(35 * time.Minute)}
	for _, g := range []roomGuest{
		{Booking: b, Role: roleWorker, Identity: "s:7", Name: "Paola Ferri"},
		{Booking: b, Role: roleResident, Identity: "p:3", Name: "Anna Bianchi"},
		{Booking: b, Role: roleMediator, Identity: "m:1", Name: "Samira, mediatrice"},
	} {
		t.Run(g.Role, func(t *testing.T) {
			to, err := s.jitsiRoomURL(g, now)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(to)
			if err != nil {
				t.Fatal(err)
			}
			room := jitsiRoomName(secret, 42)
			if u.Host != "meet.example.it" || u.Path != "/"+room || !strings.HasPrefix(room, "colloquio-42-") {
				t.Errorf("room URL %s", to)
			}
			raw := u.Query().Get("jwt")
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				t.Fatal(err)
			}
			if typ := tok.Headers[0].ExtraHeaders["typ"]; typ != "JWT" {
				t.Errorf("typ %v", typ)
			}
			var other jitsiClaims
			if err := tok.Claims([]byte(strings.Repeat("x", 40)), &other); err == nil {
				t.Error("the token verifies with another key")
			}
			var c jitsiClaims
			if err := tok.Claims([]byte(secret), &c); err != nil {
				t.Fatal(err)
			}
			if err := c.Claims.ValidateWithLeeway(jwt.Expected{Issuer: "csc-portal", Subject: "meet.example.it",
				AnyAudience: jwt.Audience{"jitsi"}, Time: now.Add(4 * time.Minute)}, 0); err != nil {
				t.Errorf("claims: %v", err)
			}
			if err := c.Claims.ValidateWithLeeway(jwt.Expected{Time: now.Add(6 * time.Minute)}, 0); err == nil {
				t.Error("the token is still good after six minutes")
			}
			worker := g.Role == roleWorker
			if c.Room != room || c.Context.User.Name != g.Name || c.Moderator != worker || c.Context.User.Moderator != worker {
				t.Errorf("claims %+v", c)
			}
		})
	}
	if jitsiRoomName(secret, 42) == jitsiRoomName(strings.Repeat("z", 40), 42) || jitsiRoomName(secret, 42) == jitsiRoomName(secret, 43) {
		t.Error("room names do not depend on the secret and the booking")
	}

	// the door lets the guest through to Jitsi with a fresh token
	var err error
	if s.I18n, err = i18n.New(); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		return s.enterRoomPage(c, roomGuest{Booking: b, Role: roleResident, Identity: "p:3", Name: "Anna"}, nil)
	})
	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(loc, "https://meet.example.it/"+jitsiRoomName(secret, 42)+"?jwt=ey") {
		t.Errorf("the door: %d to %q", resp.StatusCode, loc)
	}
}

// The ICE servers of the configuration; with coturn's shared secret, credentials of the room's own that expire an
// hour after it ends.
func TestICEServers(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 55, 0, 0, time.UTC)
	b := storage.RoomBooking{ID: 42, StartsAt: now.Add(5 * time.Minute), EndsAt: now.Add(35 * time.Minute)}
	s := &Server{Deps: Deps{Config: &config.Config{Video: config.Video{STUNURLs: []string{"stun:turn.example.it:3478"},
		TURNURLs: []string{"turn:turn.example.it:3478"}, TURNSecret: "coturn-secret"}}}}
	got := s.iceServers(b, now)
	if len(got) != 2 || got[0].URLs[0] != "stun:turn.example.it:3478" || got[0].Username != "" {
		t.Fatalf("ICE servers %+v", got)
	}
	wantUser := strconv.FormatInt(b.EndsAt.Add(time.Hour).Unix(), 10) + ":colloquio42"
	mac := hmac.New(sha1.New, []byte("coturn-secret"))
	mac.Write([]byte(wantUser))
	if got[1].Username != wantUser || got[1].Credential != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("TURN credentials %+v", got[1])
	}
	s.Config.Video = config.Video{TURNURLs: []string{"turns:turn.example.it:5349"}, TURNUsername: "portal", TURNCredential: "pw"}
	if got := s.iceServers(b, now); len(got) != 1 || got[0].Username != "portal" || got[0].Credential != "pw" {
		t.Errorf("fixed TURN account %+v", got)
	}
}
