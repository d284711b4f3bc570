// Package notifications delivers messages to residents and staff: an outbox written in the same PostgreSQL
// transaction as the change that causes it, a River worker that delivers with retries, and the channels
// (e-mail, SMS, in-portal inbox). Message texts are templates per kind in the recipient's language; e-mail and
// SMS bodies never carry health or disability details, only that there is news and where to sign in.
package notifications

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is a way to reach a person.
type Channel string

const (
	Email Channel = "email"
	SMS   Channel = "sms"
	Inbox Channel = "inbox" // the in-portal inbox of a signed-in citizen
)

// Recipient is who a message goes to. PersonID is set for citizens with an account (needed for the inbox);
// a sign-in code goes to an address with no account yet.
type Recipient struct {
	PersonID int64
	Email    string
	Phone    string
	Lang     string // one of i18n.Languages; the message is rendered in it
}

// Message is one notification to send. Kind selects the templates (subject, text, HTML, SMS) in every language;
// Data fills them. Data must never contain health details: it goes into e-mail and SMS bodies.
type Message struct {
	Kind     string
	To       Recipient
	Channels []Channel
	Data     map[string]string
	SendAt   time.Time // zero: as soon as possible; later: scheduled (reminders)
	// UniqueKey, when set, makes a second Enqueue of the same key a no-op, so a retried request never sends twice.
	UniqueKey string
}

// Outbox records messages in the caller's transaction: they are delivered if and only if it commits.
type Outbox interface {
	Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error
	// Cancel withdraws, in the caller's transaction, the messages enqueued under uniqueKey that are not out yet
	// (a reminder of an appointment cancelled or moved): their rows and delivery jobs go, on every channel.
	Cancel(ctx context.Context, tx pgx.Tx, uniqueKey string, now time.Time) error
	// Prepare checks a message of a swept kind and returns the values of its rows, for a caller that inserts them
	// in its own statement (InsertSQL).
	Prepare(m Message) (Prepared, error)
}
