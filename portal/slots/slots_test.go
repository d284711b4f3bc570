package slots

import (
	"strings"
	"testing"
	"time"
)

var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return loc
}()

func romeAt(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, rome)
}

// starts lists the slots as "2006-01-02 15:04 (UTC 15:04) xN" for readable comparisons.
func starts(all []Slot) string {
	var b strings.Builder
	for i, s := range all {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Start.In(rome).Format("01-02 15:04") + " (UTC " + s.Start.UTC().Format("15:04") + ")")
		if s.Capacity != 1 {
			b.WriteString(" x" + string(rune('0'+s.Capacity)))
		}
	}
	return b.String()
}

// Monday morning, an hour per slot, one desk, bookable from today for two weeks.
func mondayMornings() Rules {
	return Rules{SlotMinutes: 60, Capacity: 1, FromDays: 0, ToDays: 14, Loc: rome,
		Patterns: []Pattern{{Weekday: 1, Start: At(9, 0), End: At(11, 0)}}}
}

func TestSlotGenerate(t *testing.T) {
	mon := Date(2026, time.November, 23)
	before := romeAt(2026, time.November, 22, 8, 0) // the Sunday before
	cases := []struct {
		name        string
		rules       func() Rules
		first, last Day
		now         time.Time
		want        string
	}{
		{"a plain Monday", mondayMornings, mon, mon, before,
			"11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00)"},
		{"pattern shorter than a slot at its end", func() Rules {
			r := mondayMornings()
			r.Patterns[0].End = At(11, 30)
			return r
		}, mon, mon, before, "11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00)"},
		{"other weekdays give nothing", mondayMornings, mon + 1, mon + 6, before, ""},
		// 29 March 2026: summer time starts at 02:00, which becomes 03:00. 09:00 stays 09:00 on the wall clock.
		{"the Monday after summer time starts", mondayMornings, Date(2026, time.March, 30), Date(2026, time.March, 30),
			romeAt(2026, time.March, 27, 8, 0), "03-30 09:00 (UTC 07:00), 03-30 10:00 (UTC 08:00)"},
		{"the day summer time starts: 02:00 does not exist", func() Rules {
			return Rules{SlotMinutes: 60, Capacity: 1, ToDays: 5, Loc: rome,
				Patterns: []Pattern{{Weekday: 7, Start: At(1, 0), End: At(4, 0)}}}
		}, Date(2026, time.March, 29), Date(2026, time.March, 29), romeAt(2026, time.March, 28, 8, 0),
			"03-29 01:00 (UTC 00:00), 03-29 03:00 (UTC 01:00)"},
		{"the Monday after summer time ends", mondayMornings, Date(2026, time.October, 26), Date(2026, time.October, 26),
			romeAt(2026, time.October, 23, 8, 0), "10-26 09:00 (UTC 08:00), 10-26 10:00 (UTC 09:00)"},
		{"whole-day holiday", func() Rules {
			r := mondayMornings()
			r.ToDays = 20
			r.Exceptions = []Exception{{First: Date(2026, time.December, 7), Last: Date(2026, time.December, 8)}}
			return r
		}, Date(2026, time.November, 30), Date(2026, time.December, 14), romeAt(2026, time.November, 29, 8, 0),
			"11-30 09:00 (UTC 08:00), 11-30 10:00 (UTC 09:00), 12-14 09:00 (UTC 08:00), 12-14 10:00 (UTC 09:00)"},
		{"closed for some hours", func() Rules {
			r := mondayMornings()
			r.Exceptions = []Exception{{First: mon, Last: mon, Start: At(9, 30), End: At(10, 0)}}
			return r
		}, mon, mon, before, "11-23 10:00 (UTC 09:00)"},
		{"extra opening on a Saturday", func() Rules {
			r := mondayMornings()
			r.Exceptions = []Exception{{Open: true, First: mon + 5, Last: mon + 5, Start: At(10, 0), End: At(12, 0)}}
			return r
		}, mon + 1, mon + 6, before, "11-28 10:00 (UTC 09:00), 11-28 11:00 (UTC 10:00)"},
		{"pattern valid from a later day", func() Rules {
			r := mondayMornings()
			r.Patterns[0].ValidFrom = mon + 7
			return r
		}, mon, mon + 7, before, "11-30 09:00 (UTC 08:00), 11-30 10:00 (UTC 09:00)"},
		{"pattern valid until an earlier day", func() Rules {
			r := mondayMornings()
			r.Patterns[0].ValidTo = mon + 6
			return r
		}, mon, mon + 7, before, "11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00)"},
		{"two desks", func() Rules {
			r := mondayMornings()
			r.Capacity = 2
			return r
		}, mon, mon, before, "11-23 09:00 (UTC 08:00) x2, 11-23 10:00 (UTC 09:00) x2"},
		{"a worker's desk adds a place, never beyond the office's desks", func() Rules {
			r := mondayMornings()
			r.Capacity = 2
			r.Patterns = []Pattern{{Weekday: 1, Start: At(9, 0), End: At(10, 0), Staff: 7},
				{Weekday: 1, Start: At(9, 0), End: At(11, 0), Staff: 8},
				{Weekday: 1, Start: At(10, 0), End: At(11, 0), Staff: 9}}
			return r
		}, mon, mon, before, "11-23 09:00 (UTC 08:00) x2, 11-23 10:00 (UTC 09:00) x2"},
		{"a worker's leave closes their desk only", func() Rules {
			r := mondayMornings()
			r.Capacity = 2
			r.Patterns = []Pattern{{Weekday: 1, Start: At(9, 0), End: At(11, 0), Staff: 7},
				{Weekday: 1, Start: At(9, 0), End: At(10, 0), Staff: 8}}
			r.Exceptions = []Exception{{First: mon, Last: mon, Staff: 7}}
			return r
		}, mon, mon, before, "11-23 09:00 (UTC 08:00)"},
		{"the past is never offered", mondayMornings, mon, mon, romeAt(2026, time.November, 23, 9, 0),
			"11-23 10:00 (UTC 09:00)"},
		{"window: not before N days ahead", func() Rules {
			r := mondayMornings()
			r.FromDays = 2
			return r
		}, mon, mon + 14, romeAt(2026, time.November, 22, 8, 0), "11-30 09:00 (UTC 08:00), 11-30 10:00 (UTC 09:00)"},
		{"window: not after M days ahead", func() Rules {
			r := mondayMornings()
			r.ToDays = 7
			return r
		}, mon - 7, mon + 30, romeAt(2026, time.November, 22, 8, 0), "11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00)"},
		{"window: the M-th day is the last", func() Rules {
			r := mondayMornings()
			r.ToDays = 1
			return r
		}, mon, mon, romeAt(2026, time.November, 22, 23, 59), "11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00)"},
		{"no slot length, no slots", func() Rules {
			r := mondayMornings()
			r.SlotMinutes = 0
			return r
		}, mon, mon, before, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := starts(Generate(c.rules(), c.first, c.last, c.now)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// The day summer time ends, 02:00–03:00 happens twice: the slots stay distinct, ordered and an hour long each.
func TestSlotAutumnDay(t *testing.T) {
	r := Rules{SlotMinutes: 60, Capacity: 1, ToDays: 5, Loc: rome,
		Patterns: []Pattern{{Weekday: 7, Start: At(1, 0), End: At(4, 0)}}}
	got := Generate(r, Date(2026, time.October, 25), Date(2026, time.October, 25), romeAt(2026, time.October, 24, 8, 0))
	if len(got) != 3 {
		t.Fatalf("%d slots: %s", len(got), starts(got))
	}
	for i, s := range got {
		if s.End.Sub(s.Start) != time.Hour {
			t.Errorf("slot %d lasts %s", i, s.End.Sub(s.Start))
		}
		if i > 0 && got[i-1].End.After(s.Start) {
			t.Errorf("slot %d overlaps the one before: %s", i, starts(got))
		}
		if want := []int{1, 2, 3}[i]; s.Start.In(rome).Hour() != want {
			t.Errorf("slot %d starts at %s", i, s.Start.In(rome).Format("15:04"))
		}
	}
}

func TestSlotFreeAndFind(t *testing.T) {
	mon := Date(2026, time.November, 23)
	now := romeAt(2026, time.November, 22, 8, 0)
	r := mondayMornings()
	r.Capacity = 2
	all := Generate(r, mon, mon, now)
	nine, ten := romeAt(2026, time.November, 23, 9, 0), romeAt(2026, time.November, 23, 10, 0)
	free := Free(all, map[int64]int{nine.Unix(): 2, ten.Unix(): 1})
	if len(free) != 1 || !free[0].Start.Equal(ten) || free[0].Left() != 1 || free[0].Taken != 1 {
		t.Fatalf("free: %+v", free)
	}
	cases := []struct {
		name  string
		start time.Time
		now   time.Time
		ok    bool
	}{
		{"a generated slot", ten, now, true},
		{"outside the opening hours", romeAt(2026, time.November, 23, 15, 0), now, false},
		{"off the slot grid", romeAt(2026, time.November, 23, 9, 30), now, false},
		{"a day without opening", romeAt(2026, time.November, 24, 9, 0), now, false},
		{"in the past", nine, romeAt(2026, time.November, 23, 9, 5), false},
		{"beyond the window", romeAt(2026, time.December, 21, 9, 0), now, false},
	}
	for _, c := range cases {
		if s, ok := Find(r, c.start, c.now); ok != c.ok || (ok && s.Capacity != 2) {
			t.Errorf("%s: found %v (%+v)", c.name, ok, s)
		}
	}
}

func TestSlotDays(t *testing.T) {
	if d := Date(2026, time.November, 23); d.Weekday() != 1 || d.String() != "2026-11-23" || (d+6).Weekday() != 7 {
		t.Errorf("day %s weekday %d", d, d.Weekday())
	}
	if d, err := ParseDay("2026-03-29"); err != nil || d != Date(2026, time.March, 29) {
		t.Errorf("parse: %v %v", d, err)
	}
	if _, err := ParseDay("29/03/2026"); err == nil {
		t.Error("a day in another format parsed")
	}
	// late evening in Rome is still the same day, though it is the next in UTC... and the other way round
	if DayOf(time.Date(2026, time.June, 30, 23, 30, 0, 0, time.UTC), rome) != Date(2026, time.July, 1) {
		t.Error("23:30 UTC on 30 June is 1 July in Rome")
	}
	if !Date(2026, time.March, 29).In(rome).Equal(romeAt(2026, time.March, 29, 0, 0)) {
		t.Error("In: midnight in Rome")
	}
	r := mondayMornings()
	r.ToDays = 20
	all := Generate(r, Date(2026, time.November, 23), Date(2026, time.December, 7), romeAt(2026, time.November, 22, 8, 0))
	days := Days(all, rome)
	if len(days) != 3 || days[1] != Date(2026, time.November, 30) || len(On(all, days[1], rome)) != 2 {
		t.Errorf("days %v", days)
	}
}

// The staff calendar sees a day's slots whatever the window and the clock: the past hours of today and days
// beyond the bookable window.
func TestSlotSpan(t *testing.T) {
	r := mondayMornings()
	r.FromDays, r.ToDays = 1, 1
	monday := Date(2026, time.November, 23)
	if got, want := starts(Span(r, monday, monday+7)), "11-23 09:00 (UTC 08:00), 11-23 10:00 (UTC 09:00), 11-30 09:00 (UTC 08:00), 11-30 10:00 (UTC 09:00)"; got != want {
		t.Errorf("Span:\n got %s\nwant %s", got, want)
	}
	r.Exceptions = []Exception{{First: monday, Last: monday, Start: At(10, 0), End: At(11, 0)}}
	if got, want := starts(Span(r, monday, monday)), "11-23 09:00 (UTC 08:00)"; got != want {
		t.Errorf("Span with a closed hour: got %s, want %s", got, want)
	}
}
