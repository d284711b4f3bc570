// Package slots turns an office's weekly availability for a service into the concrete appointment slots a resident
// can book: plain functions over plain values, no database and no web, so every rule (time zone changes, closed
// days, extra openings, parallel desks, the bookable window, the past) is tested by tables.
//
// Times of day are wall-clock times in the office's time zone (Europe/Rome): an office that opens at 09:00 opens
// at 09:00 on the day summer time starts as on any other. A slot whose start does not exist on the clock that day
// (02:30 on the last Sunday of March) is left out; a slot lasts its length in real time.
package slots

import (
	"fmt"
	"slices"
	"time"
)

// Day is a calendar day, counted from 1 January 1970, whatever the time zone: arithmetic on days never meets a
// 23- or 25-hour day.
type Day int32

// DayOf is the calendar day of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Date(y, m, d)
}

// Date is the Day of a calendar date.
func Date(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDay reads "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("slots: day %q: %w", s, err)
	}
	return Date(t.Date()), nil
}

func (d Day) utc() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// In is the first instant of the day in loc.
func (d Day) In(loc *time.Location) time.Time {
	y, m, dd := d.utc().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// Weekday is the ISO weekday: 1 = Monday … 7 = Sunday.
func (d Day) Weekday() int {
	w := int(d.utc().Weekday())
	if w == 0 {
		return 7
	}
	return w
}

// String is "2006-01-02".
func (d Day) String() string { return d.utc().Format(time.DateOnly) }

// Clock is a time of day in minutes after midnight (wall clock).
type Clock int

// At is h:m.
func At(h, m int) Clock { return Clock(h*60 + m) }

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Pattern is one weekly opening: on Weekday from Start to End, between ValidFrom and ValidTo (zero: unbounded).
// Staff 0 opens every desk of the office; a worker's pattern opens one desk.
type Pattern struct {
	Weekday            int // ISO, 1 = Monday
	Start, End         Clock
	ValidFrom, ValidTo Day // 0: no bound
	Staff              int64
}

// Exception changes the days First to Last (inclusive). Closed with Start = End = 0 closes whole days; with hours
// it closes those hours. Staff 0 closes the office; a worker's closing (leave) removes only what their own
// patterns opened. Open adds an opening from Start to End on each of the days: every desk (Staff 0) or one.
type Exception struct {
	First, Last Day
	Open        bool
	Start, End  Clock
	Staff       int64
}

// Rules are what the slots of one service at one office come from.
type Rules struct {
	SlotMinutes int
	Capacity    int // the office's parallel desks for the service
	// the window: from FromDays to ToDays days after today (0 = today)
	FromDays, ToDays int
	Patterns         []Pattern
	Exceptions       []Exception
	Loc              *time.Location
}

// Slot is one bookable time with its places.
type Slot struct {
	Start, End time.Time
	Capacity   int // places: desks open at that time, at most the office's desks
	Taken      int // filled in by Free from the bookings
}

// Left is the number of places still free.
func (s Slot) Left() int { return max(s.Capacity-s.Taken, 0) }

// Key identifies a slot's start (seconds since the epoch), as in forms and bookings.
func (s Slot) Key() int64 { return s.Start.Unix() }

// Window is the first and last day that may be booked at now.
func (r Rules) Window(now time.Time) (first, last Day) {
	today := DayOf(now, r.Loc)
	return today + Day(r.FromDays), today + Day(r.ToDays)
}

// opening is a span of one day with the desks it opens.
type opening struct {
	start, end Clock
	desks      int
	staff      int64
}

// Generate returns the slots of the days first to last (inclusive), in order, with their capacity: from the
// weekly patterns valid on each day, minus what exceptions close, plus what they open; only within the bookable
// window and strictly after now. Taken is zero: Free fills it in.
func Generate(r Rules, first, last Day, now time.Time) []Slot {
	if r.SlotMinutes <= 0 || r.Capacity <= 0 || r.Loc == nil {
		return nil
	}
	wFirst, wLast := r.Window(now)
	first, last = max(first, wFirst), min(last, wLast)
	var out []Slot
	for d := first; d <= last; d++ {
		out = append(out, r.day(d, now)...)
	}
	return out
}

// day computes the slots of one day.
func (r Rules) day(d Day, now time.Time) []Slot {
	var openings []opening
	for _, p := range r.Patterns {
		if p.Weekday != d.Weekday() || (p.ValidFrom != 0 && d < p.ValidFrom) || (p.ValidTo != 0 && d > p.ValidTo) {
			continue
		}
		openings = append(openings, opening{start: p.Start, end: p.End, desks: r.desks(p.Staff), staff: p.Staff})
	}
	for _, e := range r.Exceptions {
		if e.Open && d >= e.First && d <= e.Last {
			openings = append(openings, opening{start: e.Start, end: e.End, desks: r.desks(e.Staff), staff: e.Staff})
		}
	}
	places := map[int64]*Slot{}
	length := time.Duration(r.SlotMinutes) * time.Minute
	y, m, dd := d.utc().Date()
	for _, o := range openings {
		for c := o.start; c+Clock(r.SlotMinutes) <= o.end; c += Clock(r.SlotMinutes) {
			if r.closed(d, c, c+Clock(r.SlotMinutes), o.staff) {
				continue
			}
			start := time.Date(y, m, dd, int(c)/60, int(c)%60, 0, 0, r.Loc)
			if Clock(start.Hour()*60+start.Minute()) != c || DayOf(start, r.Loc) != d {
				continue // this wall-clock time does not exist today (summer time starts)
			}
			if !start.After(now) {
				continue
			}
			s, ok := places[start.Unix()]
			if !ok {
				s = &Slot{Start: start, End: start.Add(length)}
				places[start.Unix()] = s
			}
			s.Capacity = min(s.Capacity+o.desks, r.Capacity)
		}
	}
	out := make([]Slot, 0, len(places))
	for _, s := range places {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Slot) int { return a.Start.Compare(b.Start) })
	return out
}

func (r Rules) desks(staff int64) int {
	if staff == 0 {
		return r.Capacity
	}
	return 1
}

// closed reports whether an exception closes [start, end) of day d for an opening of staff (0: the office's).
func (r Rules) closed(d Day, start, end Clock, staff int64) bool {
	for _, e := range r.Exceptions {
		if e.Open || d < e.First || d > e.Last || (e.Staff != 0 && e.Staff != staff) {
			continue
		}
		if e.Start == 0 && e.End == 0 {
			return true
		}
		if start < e.End && e.Start < end {
			return true
		}
	}
	return false
}

// Free fills in Taken from the bookings (places taken by slot start, seconds since the epoch) and keeps the slots
// with a place left.
func Free(all []Slot, taken map[int64]int) []Slot {
	out := make([]Slot, 0, len(all))
	for _, s := range all {
		s.Taken = taken[s.Key()]
		if s.Left() > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Find returns the slot starting at start if the rules generate it at now: a time outside the opening hours, on
// a closed day, outside the window or in the past is no slot.
func Find(r Rules, start, now time.Time) (Slot, bool) {
	if r.Loc == nil {
		return Slot{}, false
	}
	d := DayOf(start, r.Loc)
	for _, s := range Generate(r, d, d, now) {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return Slot{}, false
}

// Days groups slots by calendar day, in order.
func Days(all []Slot, loc *time.Location) []Day {
	var out []Day
	for _, s := range all {
		if d := DayOf(s.Start, loc); len(out) == 0 || out[len(out)-1] != d {
			out = append(out, d)
		}
	}
	return out
}

// On returns the slots of day d.
func On(all []Slot, d Day, loc *time.Location) []Slot {
	var out []Slot
	for _, s := range all {
		if DayOf(s.Start, loc) == d {
			out = append(out, s)
		}
	}
	return out
}

// Span returns every slot of the days first to last (inclusive), whatever the bookable window and the clock: what
// the staff calendar shows, past hours included. Taken is zero.
func Span(r Rules, first, last Day) []Slot {
	if r.SlotMinutes <= 0 || r.Capacity <= 0 || r.Loc == nil {
		return nil
	}
	var out []Slot
	for d := first; d <= last; d++ {
		out = append(out, r.day(d, time.Time{})...)
	}
	return out
}
