package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// With JITSI_URL set, the rooms are a self-hosted Jitsi Meet with JWT authentication (prosody's token auth,
// JWT_APP_ID and JWT_APP_SECRET on the Jitsi side equal to JITSI_APP_ID and JITSI_APP_SECRET here): the portal's
// door decides who may enter and when, exactly as for its own rooms, and sends them to the Jitsi room with a
// token it signs (HS256) that is good for a few minutes, for that room only. The worker is the room's moderator
// (with Jitsi's lobby on, they let the others in). go-jose was already in the build through go-oidc, so no JWT
// module was added.

// jitsiTokenLife is how long a token may wait before it is used: Jitsi checks it when joining, not afterwards.
const jitsiTokenLife = 5 * time.Minute

// jitsiClaims are the claims Jitsi's token authentication reads.
type jitsiClaims struct {
	jwt.Claims
	Room      string       `json:"room"`
	Context   jitsiContext `json:"context"`
	Moderator bool         `json:"moderator"` // read by the token_affiliation and moderation plugins
}

type jitsiContext struct {
	User jitsiUser `json:"user"`
}

type jitsiUser struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Moderator   bool   `json:"moderator"`
	Affiliation string `json:"affiliation"` // owner for the worker, member for the others
}

// jitsiRoomName is the booking's room: not guessable from the booking's number (an HMAC with the app secret),
// though the token, which names the room, is what lets people in.
func jitsiRoomName(secret string, booking int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("colloquio:" + strconv.FormatInt(booking, 10)))
	return "colloquio-" + strconv.FormatInt(booking, 10) + "-" + hex.EncodeToString(mac.Sum(nil))[:16]
}

// jitsiToken signs the token that lets the guest into the booking's Jitsi room for jitsiTokenLife.
func (s *Server) jitsiToken(g roomGuest, now time.Time) (string, string, error) {
	v := s.Config.Video
	base, err := url.Parse(v.JitsiURL)
	if err != nil {
		return "", "", fmt.Errorf("colloqui: jitsi url: %w", err)
	}
	room := jitsiRoomName(v.JitsiAppSecret, g.Booking.ID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(v.JitsiAppSecret)},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", "", fmt.Errorf("colloqui: jitsi signer: %w", err)
	}
	worker := g.Role == roleWorker
	affiliation := "member"
	if worker {
		affiliation = "owner"
	}
	claims := jitsiClaims{
		Claims: jwt.Claims{Issuer: v.JitsiAppID, Audience: jwt.Audience{"jitsi"}, Subject: base.Hostname(),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			Expiry: jwt.NewNumericDate(now.Add(jitsiTokenLife))},
		Room:      room,
		Context:   jitsiContext{User: jitsiUser{ID: g.Role + "-" + g.Identity, Name: g.Name, Moderator: worker, Affiliation: affiliation}},
		Moderator: worker,
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", "", fmt.Errorf("colloqui: jitsi token: %w", err)
	}
	return room, token, nil
}

// jitsiRoomURL is the address that opens the guest's Jitsi room with their token.
func (s *Server) jitsiRoomURL(g roomGuest, now time.Time) (string, error) {
	room, token, err := s.jitsiToken(g, now)
	if err != nil {
		return "", err
	}
	return s.Config.Video.JitsiURL + "/" + room + "?jwt=" + url.QueryEscape(token), nil
}
