package ics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/ics"
)

// parse unfolds an iCalendar file and returns its content lines, failing on lines that break RFC 5545's framing.
func parse(t *testing.T, b []byte) []string {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatal("the file does not end with CRLF")
	}
	var out []string
	for _, raw := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if strings.ContainsAny(raw, "\r\n") {
			t.Fatalf("bare CR or LF in %q", raw)
		}
		if len(raw) > 75 {
			t.Fatalf("line of %d octets: %q", len(raw), raw)
		}
		if strings.HasPrefix(raw, " ") {
			out[len(out)-1] += raw[1:]
			continue
		}
		out = append(out, raw)
	}
	return out
}

func TestICSCalendar(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Viale Europa è lunghissimo; ", 8)
	tests := []struct {
		name                  string
		start                 time.Time
		wantStart, wantEnd    string
		wantStartUTCHourShift int
	}{
		// the last Sunday of March 2026: clocks go from 02:00 to 03:00
		{"summer time starts", time.Date(2026, 3, 29, 9, 30, 0, 0, rome), "20260329T093000", "20260329T100000", 7},
		// the last Sunday of October 2026: from 03:00 back to 02:00
		{"summer time ends", time.Date(2026, 10, 25, 9, 30, 0, 0, rome), "20261025T093000", "20261025T100000", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.start.UTC().Hour(); got != tt.wantStartUTCHourShift {
				t.Fatalf("UTC hour %d, want %d", got, tt.wantStartUTCHourShift)
			}
			b := ics.Calendar(ics.Event{UID: "booking-7@csc", Stamp: time.Date(2026, 3, 1, 8, 0, 0, 0, rome),
				Start: tt.start.UTC(), End: tt.start.Add(30 * time.Minute).UTC(), Summary: "Colloquio, sportello",
				Location: long, URL: "https://portal.test/appuntamenti/7"}, rome)
			lines := parse(t, b)
			props := map[string]string{}
			var stack []string
			for _, l := range lines {
				name, value, ok := strings.Cut(l, ":")
				if !ok {
					t.Fatalf("no colon in %q", l)
				}
				switch name {
				case "BEGIN":
					stack = append(stack, value)
				case "END":
					if len(stack) == 0 || stack[len(stack)-1] != value {
						t.Fatalf("END:%s does not close %v", value, stack)
					}
					stack = stack[:len(stack)-1]
				}
				if len(stack) > 0 && stack[len(stack)-1] == "VEVENT" || len(stack) == 1 {
					props[name] = value
				}
			}
			if len(stack) != 0 {
				t.Fatalf("unclosed %v", stack)
			}
			want := map[string]string{
				"VERSION": "2.0", "CALSCALE": "GREGORIAN", "PRODID": "-//CSC Smart Services//Appuntamenti//IT",
				"UID": "booking-7@csc", "DTSTAMP": "20260301T070000Z",
				"DTSTART;TZID=Europe/Rome": tt.wantStart, "DTEND;TZID=Europe/Rome": tt.wantEnd,
				"SUMMARY": `Colloquio\, sportello`, "LOCATION": ics.Text(long),
			}
			for k, v := range want {
				if props[k] != v {
					t.Errorf("%s = %q, want %q", k, props[k], v)
				}
			}
			if !strings.Contains(string(b), "BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\n") {
				t.Error("no VTIMEZONE for Europe/Rome")
			}
		})
	}
}

func TestICSFoldKeepsCharacters(t *testing.T) {
	line := "SUMMARY:" + strings.Repeat("è€漢", 30)
	folded := ics.Fold(line)
	for _, l := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line of %d octets", len(l))
		}
		if !utf8Valid(l) {
			t.Fatalf("a character was split: %q", l)
		}
	}
	if got := strings.ReplaceAll(folded, "\r\n ", ""); got != line+"\r\n" {
		t.Fatalf("unfolding gives %q", got)
	}
	if got := ics.Text("a\\b;c,d\ne"); got != `a\\b\;c\,d\ne` {
		t.Fatalf("Text = %q", got)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
