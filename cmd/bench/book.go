package main

import (
	"context"
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The booking benchmark: residents book appointments at once, as on a busy morning, over the seeded calendar (one
// sportello per sub-ambito, the demo services, their weekly hours and holidays, one or two desks). Each goes the
// citizen's way through the whole HTTP path — the slots page, hold a time, the confirm page, confirm — and prefers
// the first free times, so many race for the same ones; a refused time ("just taken", or held by someone
// confirming) shows the next free ones, and the resident takes one of those, as a person would. Afterwards
// PostgreSQL is asked, from the bookings themselves, whether any slot holds more people than it has places.
const (
	bookClients  = 200
	bookDuration = 10 * time.Second
	// bookMaxOpen is this run's limit of open appointments per person and service (the demo's are 1 or 2, the
	// schema's maximum is 10), so the limits against hoarding do not stop residents who book all morning.
	bookMaxOpen = 10
)

type bookResult struct {
	offices, services, targets, slots, places int
	capMin, capMax, days                      int

	booked, attempts, taken, takenAtConfirm, heldByOther int
	limited, errors                                      int
	rps, aps, p99ms                                      float64
	elapsed                                              time.Duration

	overCapacity, outside, counterOff, stored int
}

// slotKey names a slot of a service at an office.
type slotKey struct {
	office, service string
	start           int64 // seconds since the epoch
}

// bookTarget is a service at an office, as residents book it.
type bookTarget struct {
	path, mode string
	places     int
}

var inizioRe = regexp.MustCompile(`name="inizio" id="slot-\d+" value="(\d+)"`)

// freeTimes are the times a booking page offers, in its order.
func freeTimes(body string) []string {
	var out []string
	for _, m := range inizioRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// pickTime prefers the first free time, as most people do: the first one half of the time, otherwise one of the
// next three.
func pickTime(times []string) string {
	if len(times) == 1 || rand.IntN(2) == 0 {
		return times[0]
	}
	return times[1+rand.IntN(min(len(times)-1, 3))]
}

// benchBookings lets bookClients residents book for bookDuration and checks the bookings in PostgreSQL.
func benchBookings(ctx context.Context, base string, db *storage.DB) (bookResult, error) {
	var r bookResult
	pool := db.Pool
	now := time.Now()
	today := slots.DayOf(now, i18n.Rome)
	if _, err := pool.Exec(ctx, `UPDATE services SET max_open_per_person = $1`, bookMaxOpen); err != nil {
		return r, err
	}

	// The calendar as the slot engine offers it now: every slot's places, for the check afterwards.
	services, err := db.Services(ctx)
	if err != nil {
		return r, err
	}
	capacity := map[slotKey]int{}
	byOffice := map[string][]bookTarget{}
	var offices []string
	r.services, r.capMin = len(services), 1<<30
	for _, svc := range services {
		r.days = max(r.days, svc.ToDays)
		all, err := db.ServiceOffices(ctx, svc.Code)
		if err != nil {
			return r, err
		}
		for _, o := range all {
			free, err := db.FreeSlots(ctx, svc, o, today, today+slots.Day(svc.ToDays), now)
			if err != nil {
				return r, err
			}
			t := bookTarget{path: "/appuntamenti/prenota/" + svc.Code + "/" + o.Code, mode: svc.Modes[0]}
			for _, s := range free {
				capacity[slotKey{o.Code, svc.Code, s.Key()}] = s.Capacity
				t.places += s.Left()
				r.capMin, r.capMax = min(r.capMin, s.Capacity), max(r.capMax, s.Capacity)
			}
			r.slots += len(free)
			r.places += t.places
			if _, ok := byOffice[o.Code]; !ok {
				offices = append(offices, o.Code)
			}
			byOffice[o.Code] = append(byOffice[o.Code], t)
		}
	}
	slices.Sort(offices)
	r.offices = len(offices)
	for _, ts := range byOffice {
		r.targets += len(ts)
	}
	if r.places == 0 {
		return r, fmt.Errorf("the calendar offers no free place")
	}

	// Residents live near an office: each office gets residents in proportion to its places, so every office's
	// calendar fills at about the same pace. A resident books every service of their office in turn.
	officeOf := make([]string, bookClients)
	acc, i := 0, 0
	for _, o := range offices {
		n := 0
		for _, t := range byOffice[o] {
			n += t.places
		}
		acc += n
		for ; i < bookClients && (i*r.places < acc*bookClients || o == offices[len(offices)-1]); i++ {
			officeOf[i] = o
		}
	}

	clients := make([]*benchClient, bookClients)
	var wg sync.WaitGroup
	errs := make(chan error, bookClients)
	sem := make(chan struct{}, 16)
	day := time.Now().In(i18n.Rome)
	for i := range clients {
		clients[i] = &benchClient{addr: fmt.Sprintf("10.78.%d.%d", i/250, i%250+1)}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- clients[i].signIn(ctx, base, pool, fmt.Sprintf("book%03d@example.org", i), cfFor(2_000_000+i, day))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return r, err
		}
	}

	// The refusal pages, told apart by what they say to the resident.
	bundle, err := i18n.New()
	if err != nil {
		return r, err
	}
	it := bundle.Localizer("it")
	says := func(body, id string) bool { return strings.Contains(body, html.EscapeString(it.T(id))) }

	var booked, attempts, taken, takenAtConfirm, heldByOther, limited, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	deadline := time.Now().Add(bookDuration)
	start := time.Now()
	for i, c := range clients {
		targets := slices.Clone(byOffice[officeOf[i]])
		wg.Go(func() {
			var mine []time.Duration
			next := rand.IntN(len(targets))
			for len(targets) > 0 && time.Now().Before(deadline) {
				next %= len(targets)
				t := targets[next]
				resp, body, err := c.do("GET", base, t.path, nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					next++
					continue
				}
				times := freeTimes(body)
				for time.Now().Before(deadline) {
					if len(times) == 0 { // this service is full at this office
						targets = slices.Delete(targets, next, next+1)
						next--
						break
					}
					at := pickTime(times)
					attempts.Add(1)
					resp, body, err := c.do("POST", base, t.path, url.Values{"inizio": {at}})
					if err != nil {
						failed.Add(1)
						break
					}
					if resp.StatusCode == http.StatusConflict {
						switch {
						case says(body, "appointments.error.limit"):
							limited.Add(1)
							targets = slices.Delete(targets, next, next+1)
							next--
						case says(body, "appointments.error.held_by_other"):
							heldByOther.Add(1)
							times = freeTimes(body)
							continue
						case says(body, "appointments.error.taken"):
							taken.Add(1)
							times = freeTimes(body)
							continue
						default:
							failed.Add(1)
						}
						break
					}
					if resp.StatusCode != http.StatusSeeOther {
						failed.Add(1)
						break
					}
					resp, body, err = c.do("GET", base, resp.Header.Get("Location"), nil)
					m := keyRe.FindStringSubmatch(body)
					if err != nil || resp.StatusCode != http.StatusOK || m == nil {
						failed.Add(1)
						break
					}
					t0 := time.Now()
					resp, body, err = c.do("POST", base, t.path+"/conferma", url.Values{"inizio": {at}, "key": {m[1]},
						"modalita": {t.mode}, "lingua": {"it"}})
					mine = append(mine, time.Since(t0))
					switch {
					case err == nil && resp.StatusCode == http.StatusSeeOther && strings.HasSuffix(resp.Header.Get("Location"), "?prenotato=1"):
						booked.Add(1)
					case err == nil && resp.StatusCode == http.StatusConflict && says(body, "appointments.error.taken"):
						taken.Add(1)
						takenAtConfirm.Add(1)
						times = freeTimes(body)
						continue
					default:
						failed.Add(1)
					}
					break
				}
				next++
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.booked, r.attempts, r.taken, r.heldByOther = int(booked.Load()), int(attempts.Load()), int(taken.Load()), int(heldByOther.Load())
	r.takenAtConfirm, r.limited, r.errors = int(takenAtConfirm.Load()), int(limited.Load()), int(failed.Load())
	r.rps = float64(r.booked) / r.elapsed.Seconds()
	r.aps = float64(r.attempts) / r.elapsed.Seconds()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		r.p99ms = float64(latencies[len(latencies)*99/100].Microseconds()) / 1000
	}

	ids := make([]int64, len(clients))
	for i, c := range clients {
		ids[i] = c.personID
	}
	return r, r.check(ctx, pool, capacity, ids)
}

// check counts, from the bookings themselves, the slots whose occupying bookings are more than the slot's places
// (the office's desks for the service and the places the slot engine offered before the run, whichever is fewer),
// the slots booked that the calendar did not offer, the counters that disagree with the bookings, and the
// residents' bookings stored.
func (r *bookResult) check(ctx context.Context, pool *pgxpool.Pool, capacity map[slotKey]int, residents []int64) error {
	rows, _ := pool.Query(ctx, `SELECT b.office, b.service, b.starts_at, count(*), os.capacity
		FROM bookings b JOIN office_services os ON os.office = b.office AND os.service = b.service
		WHERE b.status IN ('booked', 'arrived', 'no_show') GROUP BY b.office, b.service, b.starts_at, os.capacity`)
	var k slotKey
	var at time.Time
	var n, desks int
	if _, err := pgx.ForEachRow(rows, []any{&k.office, &k.service, &at, &n, &desks}, func() error {
		k.start = at.Unix()
		places, ok := capacity[k]
		if !ok {
			r.outside++
			places = desks
		}
		if n > min(places, desks) {
			r.overCapacity++
		}
		return nil
	}); err != nil {
		return err
	}
	// The counters the booking path trusts agree with the bookings, slot by slot.
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM slot_counters sc
		FULL JOIN (SELECT office, service, starts_at, count(*) AS n FROM bookings
			WHERE status IN ('booked', 'arrived', 'no_show') GROUP BY office, service, starts_at) a
		ON a.office = sc.office AND a.service = sc.service AND a.starts_at = sc.starts_at
		WHERE coalesce(sc.taken, -1) <> coalesce(a.n, 0)`).Scan(&r.counterOff); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE person_id = ANY($1) AND status = 'booked'`, residents).
		Scan(&r.stored); err != nil {
		return err
	}
	return nil
}

// print writes the booking lines of the report, with the ratio against pgbench measured in the same run.
func (r bookResult) print(pgTPS float64) {
	fmt.Printf("\n%-48s %d offices × %d services (%d pairs), %d slots, %d places (%d–%d a slot), limit %d open a service\n",
		fmt.Sprintf("calendar: seeded, up to %d days ahead", r.days), r.offices, r.services, r.targets, r.slots, r.places,
		r.capMin, r.capMax, bookMaxOpen)
	fmt.Printf("%-48s %10.0f book/s  p99 %6.2f ms (confirm)   (%d clients, %d booked in %.1f s, %.0f%% of the places)\n",
		"portal: bookings (full HTTP path)", r.rps, r.p99ms, bookClients, r.booked, r.elapsed.Seconds(),
		100*float64(r.booked)/float64(r.places))
	fmt.Printf("%-48s %10.0f hold/s  (%d attempts; refused: just taken %d (%d at confirm), held by another resident %d;"+
		" at the limit %d; errors %d)\n", "portal: booking attempts (hold a time)", r.aps, r.attempts, r.taken, r.takenAtConfirm,
		r.heldByOther, r.limited, r.errors)
	fmt.Printf("%-48s %10.3f   no target, for information\n", "ratio bookings / pgbench TPC-B (tps)", r.rps/pgTPS)
	fmt.Printf("%-48s over capacity %d (must be 0), outside the calendar %d, counters off %d, stored %d of %d   %s\n",
		"bookings checked in PostgreSQL", r.overCapacity, r.outside, r.counterOff, r.stored, r.booked,
		verdict(r.overCapacity == 0 && r.outside == 0 && r.counterOff == 0 && r.stored == r.booked))
}
