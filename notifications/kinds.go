package notifications

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// The kinds of message. Each has templates in every language (i18n/locales/notifications/*.toml):
// email.<kind>.subject, email.<kind>.text, email.<kind>.action (the link's label, for kinds with a Link),
// sms.<kind> and, for kinds that reach the inbox, inbox.<kind>.
const (
	// KindSigninCode is the e-mail (or SMS) one-time sign-in code. Data: Code (6 digits), Minutes (validity).
	KindSigninCode = "signin_code"
	// KindWelcome follows the first sign-in. Data: Link (optional, default the personal area).
	KindWelcome = "welcome"
	// KindCaseNews says that an application has news, and nothing of what: that is read after signing in.
	// Data: Protocol, Link.
	KindCaseNews = "case_news"
	// KindApplicationReceived confirms a submitted application with its protocol number. Data: Protocol, Link.
	KindApplicationReceived = "application_received"
	// KindAppointmentBooked confirms a booked appointment: when, and the link to its page; the service, the office
	// and the reason are read after signing in. Data: When (Europe/Rome wall clock, "2006-01-02T15:04"), Link (for
	// e-mail and SMS the signed link to move or cancel it without signing in: secret, wiped once sent), Booking
	// (its ID: the e-mail gets the .ics through Deps.Attachments).
	KindAppointmentBooked = "appointment_booked"
	// KindAppointmentCode is the one-time code a guest (booking without an account) confirms an appointment with:
	// it proves their e-mail address. Data: Code (6 digits), Minutes (validity).
	KindAppointmentCode = "appointment_code"
	// KindAppointmentReminder reminds of an appointment the day before (sent at its start minus 24 hours, and
	// withdrawn with Outbox.Cancel when the appointment is cancelled or moved). Data: as KindAppointmentBooked.
	KindAppointmentReminder = "appointment_reminder"
)

// WhenLayout is the layout of a When data field: a wall-clock time in Europe/Rome, rendered in the recipient's
// language.
const WhenLayout = "2006-01-02T15:04"

// PortalName is the portal's name in messages ({{.Portal}} in every template).
const PortalName = "CSC Smart Services"

// PersonalAreaPath is where residents read their messages; the default Link.
const PersonalAreaPath = "/area-personale"

// field is one Data key a kind accepts, with the only shape its value may have. Fields are few and narrow on
// purpose: e-mail and SMS bodies cross other people's servers, so a message can carry a code, a protocol number
// and a link, never free text in which health or disability details could slip.
type field struct {
	format   *regexp.Regexp
	required bool
	def      string
}

var (
	codeFormat     = regexp.MustCompile(`^[0-9]{6}$`)
	minutesFormat  = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
	protocolFormat = regexp.MustCompile(`^[A-Z0-9][A-Z0-9/-]{2,39}$`)
	// a path on the portal: links are made absolute with BASE_URL when the message is rendered
	linkFormat = regexp.MustCompile(`^/([A-Za-z0-9._~%?=&+-][A-Za-z0-9._~/%?=&+-]{0,299})?$`)
	idFormat   = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)
	whenFormat = regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]$`)
)

type kindSpec struct {
	fields   map[string]field
	channels []Channel
	action   bool     // the e-mail ends with a button to Link
	secret   []string // Data fields removed from the row once it is sent or dead
	// sweep: e-mail and SMS rows get their delivery job from the dispatcher (within dispatchEvery), not in the
	// transaction that writes them: for messages written at peaks (a click day's confirmations), where a second's
	// delay is nothing and River's per-job insert would slow every submission.
	sweep bool
}

var kinds = map[string]kindSpec{
	KindSigninCode: {
		fields: map[string]field{
			"Code":    {format: codeFormat, required: true},
			"Minutes": {format: minutesFormat, def: "10"},
		},
		channels: []Channel{Email, SMS},
		secret:   []string{"Code"},
	},
	KindWelcome: {
		fields:   map[string]field{"Link": {format: linkFormat, def: PersonalAreaPath}},
		channels: []Channel{Email, SMS, Inbox},
		action:   true,
	},
	KindCaseNews: {
		fields: map[string]field{
			"Protocol": {format: protocolFormat, required: true},
			"Link":     {format: linkFormat, def: PersonalAreaPath},
		},
		channels: []Channel{Email, SMS, Inbox},
		action:   true,
	},
	KindApplicationReceived: {
		fields: map[string]field{
			"Protocol": {format: protocolFormat, required: true},
			"Link":     {format: linkFormat, def: PersonalAreaPath},
		},
		channels: []Channel{Email, SMS, Inbox},
		action:   true,
		sweep:    true,
	},
	KindAppointmentBooked:   appointmentKind,
	KindAppointmentReminder: appointmentKind,
	KindAppointmentCode: {
		fields: map[string]field{
			"Code":    {format: codeFormat, required: true},
			"Minutes": {format: minutesFormat, def: "10"},
		},
		channels: []Channel{Email}, // the code proves the address: it goes there and nowhere else
		secret:   []string{"Code"},
	},
}

var appointmentKind = kindSpec{
	fields: map[string]field{
		"When":    {format: whenFormat, required: true},
		"Link":    {format: linkFormat, def: PersonalAreaPath},
		"Booking": {format: idFormat},
	},
	channels: []Channel{Email, SMS, Inbox},
	action:   true,
	secret:   []string{"Link"},
}

// Kinds lists the message kinds, for tests and admin pages.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkData validates a message's data against its kind and returns it with defaults filled in.
func checkData(kind string, data map[string]string) (map[string]string, error) {
	spec, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	out := make(map[string]string, len(spec.fields))
	for name, v := range data {
		f, ok := spec.fields[name]
		if !ok {
			return nil, fmt.Errorf("kind %s takes no data field %q", kind, name)
		}
		if !f.format.MatchString(v) {
			return nil, fmt.Errorf("kind %s: data field %s has the wrong format", kind, name) // never echo the value
		}
		out[name] = v
	}
	for name, f := range spec.fields {
		if _, ok := out[name]; ok {
			continue
		}
		if f.required {
			return nil, fmt.Errorf("kind %s needs data field %s", kind, name)
		}
		if f.def != "" {
			out[name] = f.def
		}
	}
	if m, ok := out["Minutes"]; ok {
		if _, err := strconv.Atoi(m); err != nil {
			return nil, fmt.Errorf("kind %s: Minutes is not a number", kind)
		}
	}
	if w, ok := out["When"]; ok {
		if _, err := time.ParseInLocation(WhenLayout, w, i18n.Rome); err != nil {
			return nil, fmt.Errorf("kind %s: When is not a date and time", kind)
		}
	}
	return out, nil
}
