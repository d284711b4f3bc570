// Package ics writes one appointment as an iCalendar file (RFC 5545): the .ics residents download or get attached
// to the confirmation e-mail. Written by hand because an appointment needs a dozen properties; a library would
// bring a parser and recurrence rules we never use.
package ics

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one appointment.
type Event struct {
	UID         string    // stable per booking, e.g. "booking-42@portal.example"
	Stamp       time.Time // DTSTAMP: when the file was made
	Start, End  time.Time
	Summary     string
	Location    string // the office's address; empty for phone and online appointments
	Description string // e.g. the online note, or how to get there
	URL         string // the appointment's page
	Cancelled   bool   // STATUS:CANCELLED, so calendars drop it
}

// TZID is the zone of DTSTART and DTEND; the file carries its VTIMEZONE.
const TZID = "Europe/Rome"

// vtimezone is Europe/Rome as EU rules have it since 1996: summer time from the last Sunday of March at 02:00 to
// the last Sunday of October at 03:00.
var vtimezone = []string{
	"BEGIN:VTIMEZONE",
	"TZID:" + TZID,
	"BEGIN:DAYLIGHT",
	"TZOFFSETFROM:+0100",
	"TZOFFSETTO:+0200",
	"TZNAME:CEST",
	"DTSTART:19700329T020000",
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
	"END:DAYLIGHT",
	"BEGIN:STANDARD",
	"TZOFFSETFROM:+0200",
	"TZOFFSETTO:+0100",
	"TZNAME:CET",
	"DTSTART:19701025T030000",
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
	"END:STANDARD",
	"END:VTIMEZONE",
}

// Calendar returns the iCalendar file of e, with wall-clock times in Europe/Rome (loc must be that zone).
func Calendar(e Event, loc *time.Location) []byte {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//CSC Smart Services//Appuntamenti//IT",
		"CALSCALE:GREGORIAN", "METHOD:PUBLISH"}
	lines = append(lines, vtimezone...)
	lines = append(lines, "BEGIN:VEVENT",
		"UID:"+Text(e.UID),
		"DTSTAMP:"+e.Stamp.UTC().Format("20060102T150405Z"),
		"DTSTART;TZID="+TZID+":"+e.Start.In(loc).Format("20060102T150405"),
		"DTEND;TZID="+TZID+":"+e.End.In(loc).Format("20060102T150405"),
		"SUMMARY:"+Text(e.Summary))
	if e.Location != "" {
		lines = append(lines, "LOCATION:"+Text(e.Location))
	}
	if e.Description != "" {
		lines = append(lines, "DESCRIPTION:"+Text(e.Description))
	}
	if e.URL != "" {
		lines = append(lines, "URL:"+e.URL)
	}
	if e.Cancelled {
		lines = append(lines, "STATUS:CANCELLED")
	} else {
		lines = append(lines, "STATUS:CONFIRMED")
	}
	lines = append(lines, "END:VEVENT", "END:VCALENDAR")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(Fold(l))
	}
	return []byte(b.String())
}

// Text escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
func Text(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// Fold ends a content line with CRLF, folding it into lines of at most 75 octets (§3.1): each continuation starts
// with a space, and a UTF-8 character is never split.
func Fold(line string) string {
	var b strings.Builder
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}
