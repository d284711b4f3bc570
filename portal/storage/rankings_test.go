package storage_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// rankingFixture is the seeded FNA Misura B2 call with a budget for anziani and €400 a month for 12 months as its
// amount (€4,800 an application), and a coordinator to run it.
type rankingFixture struct {
	db     *storage.DB
	call   int64
	staff  storage.Actor
	at     time.Time
	notify [][]int64 // the applications each run notified
}

func newRankingFixture(t *testing.T, budget int64) *rankingFixture {
	t.Helper()
	db := testenv.Shared(t).DB(t)
	f := &rankingFixture{db: db, at: testenv.SeedTime.Add(30 * 24 * time.Hour)}
	err := db.Pool.QueryRow(context.Background(), `UPDATE calls SET budgets = jsonb_build_object('anziani', $1::bigint),
			amounts = '{"all": {"cents": 40000, "period": "month", "months": 12}}'
		WHERE measure = 'fna-b2' RETURNING id, (SELECT min(id) FROM staff_users)`, budget).Scan(&f.call, &f.staff.StaffID)
	if err != nil {
		t.Fatal(err)
	}
	f.staff.IP = "192.0.2.7"
	return f
}

func (f *rankingFixture) run(t *testing.T, category string) (storage.RankingResult, error) {
	t.Helper()
	f.at = f.at.Add(time.Minute)
	return f.db.RunRanking(context.Background(), storage.RankingRun{CallID: f.call, Category: category, Actor: f.staff, Now: f.at,
		Notify: func(_ context.Context, _ pgx.Tx, changed []storage.Case, key string) error {
			ids := make([]int64, 0, len(changed))
			for _, c := range changed {
				ids = append(ids, c.ID)
			}
			f.notify = append(f.notify, ids)
			if key == "" {
				t.Error("a run's messages need a key")
			}
			return nil
		}})
}

type placed struct {
	pos    int
	status string
}

func (f *rankingFixture) placed(t *testing.T, id int64) placed {
	t.Helper()
	var p placed
	var pos *int
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT ranking_position, status FROM applications WHERE id = $1`, id).Scan(&pos, &p.status); err != nil {
		t.Fatal(err)
	}
	if pos != nil {
		p.pos = *pos
	}
	return p
}

func (f *rankingFixture) decisionEvents(t *testing.T, id int64) []string {
	t.Helper()
	rows, _ := f.db.Pool.Query(context.Background(), `SELECT data->>'outcome' FROM application_events
		WHERE application_id = $1 AND kind = 'decision' ORDER BY id`, id)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The graduatoria orders by ISEE, then time of receipt; the budget funds in that order until the first application
// that does not fit, and nobody after it, not even a smaller amount that would fit. Other categories, undecided and
// refused applications are not in it; a paid application keeps its money and its status.
func TestRankingOrderAndBudgetCut(t *testing.T) {
	f := newRankingFixture(t, 1_000_000) // €10,000: two applications of €4,800
	ctx := context.Background()
	t0 := testenv.SeedTime
	a, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 5_000_00, ReceivedAt: t0.Add(1 * time.Hour)})
	b, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 8_000_00, ReceivedAt: t0.Add(2 * time.Hour)})
	c, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 3_000_00, ReceivedAt: t0.Add(3 * time.Hour)})
	// same ISEE as a, received earlier: before a
	e, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 5_000_00, ReceivedAt: t0})
	// small enough to fit in what is left (€400), but after the first that does not fit
	small, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 9_000_00, AmountCents: 10_000, Months: 4})
	paid, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 20_000_00, Status: storage.StatusPaid})
	other, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "voucher", ISEE: 1_00})
	refused, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 1_00, Status: storage.StatusNotAdmitted})

	res, err := f.run(t, "anziani")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]placed{
		c:       {1, storage.StatusAdmittedFunded},
		e:       {2, storage.StatusAdmittedFunded},
		a:       {3, storage.StatusAdmittedNotFunded},
		b:       {4, storage.StatusAdmittedNotFunded},
		small:   {5, storage.StatusAdmittedNotFunded},
		paid:    {6, storage.StatusPaid},
		other:   {0, storage.StatusAdmitted},
		refused: {0, storage.StatusNotAdmitted},
	}
	for id, w := range want {
		if got := f.placed(t, id); got != w {
			t.Errorf("application %d: %+v, want %+v", id, got, w)
		}
	}
	if res.Funded != 3 || res.NotFunded != 3 || res.Changed != 5 {
		t.Errorf("result %+v", res)
	}
	if got := f.decisionEvents(t, c); !slices.Equal(got, []string{storage.StatusAdmittedFunded}) {
		t.Errorf("events of the first: %v", got)
	}
	if got := f.decisionEvents(t, paid); len(got) != 0 {
		t.Errorf("the paid application got events %v", got)
	}
	if len(f.notify) != 1 || len(f.notify[0]) != 5 || slices.Contains(f.notify[0], paid) {
		t.Errorf("notified %v", f.notify)
	}

	r, err := f.db.Ranking(ctx, f.call, "anziani")
	if err != nil {
		t.Fatal(err)
	}
	if r.Stale || !r.HasBudget || r.Budget != 1_000_000 || len(r.Entries) != 6 || r.RunAt == nil || r.RunBy == "" {
		t.Fatalf("ranking %+v", r)
	}
	// running total of the funded: 4,800 + 4,800, then unchanged, then the paid 4,800
	if got := []int64{r.Entries[0].Running, r.Entries[1].Running, r.Entries[4].Running, r.Entries[5].Running}; !slices.Equal(got, []int64{480_000, 960_000, 960_000, 1_440_000}) {
		t.Errorf("running totals %v", got)
	}
	if r.Entries[4].Amount.Total() != 40_000 || r.Entries[0].Amount.Total() != 480_000 {
		t.Errorf("amounts %v %v", r.Entries[4].Amount, r.Entries[0].Amount)
	}
	var audit int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'ranking.run' AND detail->>'category' = 'anziani'
		AND staff_id = $1 AND ip = '192.0.2.7'`, f.staff.StaffID).Scan(&audit); err != nil || audit != 1 {
		t.Errorf("audit lines %d (%v)", audit, err)
	}
}

// A re-run after a decision changes only what the decision changes: a new admitted application with a lower ISEE
// takes a funded place, the last funded one drops out; the others keep their outcome (their positions shift) and
// get neither an event nor a message. A run with nothing to change changes nothing.
func TestRankingRerunFlipsOnlyTheChanged(t *testing.T) {
	f := newRankingFixture(t, 1_000_000)
	first, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 3_000_00})
	second, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 5_000_00})
	third, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 8_000_00})
	if _, err := f.run(t, "anziani"); err != nil {
		t.Fatal(err)
	}
	r, _ := f.db.Ranking(context.Background(), f.call, "anziani")
	if r.Stale {
		t.Fatal("stale right after a run")
	}
	newcomer, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 1_000_00})
	if r, _ = f.db.Ranking(context.Background(), f.call, "anziani"); !r.Stale {
		t.Error("a new admitted application does not make the graduatoria stale")
	}
	res, err := f.run(t, "anziani")
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 2 || len(f.notify) != 2 || !slices.Equal(sorted(f.notify[1]), sorted([]int64{newcomer, second})) {
		t.Fatalf("second run %+v, notified %v", res, f.notify)
	}
	for id, w := range map[int64]placed{newcomer: {1, storage.StatusAdmittedFunded}, first: {2, storage.StatusAdmittedFunded},
		second: {3, storage.StatusAdmittedNotFunded}, third: {4, storage.StatusAdmittedNotFunded}} {
		if got := f.placed(t, id); got != w {
			t.Errorf("application %d: %+v, want %+v", id, got, w)
		}
	}
	if got := f.decisionEvents(t, second); !slices.Equal(got, []string{storage.StatusAdmittedFunded, storage.StatusAdmittedNotFunded}) {
		t.Errorf("events of the one that dropped out: %v", got)
	}
	if got := f.decisionEvents(t, third); len(got) != 1 {
		t.Errorf("events of one whose outcome stayed: %v", got)
	}

	// More budget: the next in order is funded, and only it changes.
	if _, err := f.db.Pool.Exec(context.Background(), `UPDATE calls SET budgets = '{"anziani": 1440000}' WHERE id = $1`, f.call); err != nil {
		t.Fatal(err)
	}
	if res, err = f.run(t, "anziani"); err != nil || res.Changed != 1 || !slices.Equal(f.notify[2], []int64{second}) {
		t.Fatalf("after more budget: %+v %v (%v)", res, f.notify, err)
	}
	// Nothing changed: no event, no message.
	if res, err = f.run(t, "anziani"); err != nil || res.Changed != 0 || len(f.notify) != 3 {
		t.Fatalf("idle run: %+v %v (%v)", res, f.notify, err)
	}
}

func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Without a budget for the category nobody is funded (a missing budget is 0, not unlimited); the ranking says so.
func TestRankingWithoutBudgetFundsNobody(t *testing.T) {
	f := newRankingFixture(t, 1_000_000)
	id, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "disabili_adulti", ISEE: 1_00})
	if _, err := f.run(t, "disabili_adulti"); err != nil {
		t.Fatal(err)
	}
	if got := f.placed(t, id); got != (placed{1, storage.StatusAdmittedNotFunded}) {
		t.Errorf("got %+v", got)
	}
	r, err := f.db.Ranking(context.Background(), f.call, "disabili_adulti")
	if err != nil || r.HasBudget || r.Budget != 0 {
		t.Errorf("ranking budget %d %v (%v)", r.Budget, r.HasBudget, err)
	}
}

// An application with no amount of its own, in a call with none for its category, stops the run with its number.
func TestRankingRefusesAnApplicationWithoutAmount(t *testing.T) {
	f := newRankingFixture(t, 1_000_000)
	if _, err := f.db.Pool.Exec(context.Background(), `UPDATE calls SET amounts = '{}' WHERE id = $1`, f.call); err != nil {
		t.Fatal(err)
	}
	id, protocol := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 1_00})
	_, err := f.run(t, "anziani")
	var noAmount *storage.RankingNoAmountError
	if !errors.As(err, &noAmount) || noAmount.Protocol != protocol {
		t.Fatalf("run: %v", err)
	}
	if got := f.placed(t, id); got.status != storage.StatusAdmitted || got.pos != 0 {
		t.Errorf("a refused run changed %+v", got)
	}
}

// Approval needs a run that is up to date; once approved, the graduatoria is frozen: no run, no second approval,
// no move between funded and not funded — but the funded can still be paid.
func TestRankingApprovalFreezes(t *testing.T) {
	f := newRankingFixture(t, 480_000)
	ctx := context.Background()
	if err := f.db.ApproveRanking(ctx, f.call, "anziani", f.staff, f.at); !errors.Is(err, storage.ErrRankingNotRun) {
		t.Fatalf("approve before any run: %v", err)
	}
	funded, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 1_000_00})
	notFunded, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 2_000_00})
	if _, err := f.run(t, "anziani"); err != nil {
		t.Fatal(err)
	}
	testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: 3_000_00})
	if err := f.db.ApproveRanking(ctx, f.call, "anziani", f.staff, f.at); !errors.Is(err, storage.ErrRankingStale) {
		t.Fatalf("approve a stale graduatoria: %v", err)
	}
	if _, err := f.run(t, "anziani"); err != nil {
		t.Fatal(err)
	}
	if published, err := f.db.ApprovedRankings(ctx, f.call); err != nil || len(published) != 0 {
		t.Fatalf("published before approval: %v (%v)", published, err)
	}
	if err := f.db.ApproveRanking(ctx, f.call, "anziani", f.staff, f.at); err != nil {
		t.Fatal(err)
	}
	if published, err := f.db.ApprovedRankings(ctx, f.call); err != nil || len(published) != 1 || !published["anziani"].Equal(f.at) {
		t.Fatalf("published after approval: %v (%v)", published, err)
	}
	if _, err := f.run(t, "anziani"); !errors.Is(err, storage.ErrRankingApproved) {
		t.Fatalf("run after approval: %v", err)
	}
	if err := f.db.ApproveRanking(ctx, f.call, "anziani", f.staff, f.at); !errors.Is(err, storage.ErrRankingApproved) {
		t.Fatalf("second approval: %v", err)
	}
	_, err := f.db.Move(ctx, storage.Transition{ApplicationID: notFunded, Scope: storage.Scope{All: true}, To: storage.StatusAdmittedFunded})
	var ite *storage.IllegalTransitionError
	if !errors.As(err, &ite) || !ite.Frozen {
		t.Fatalf("move under the approved graduatoria: %v", err)
	}
	if _, err := f.db.Move(ctx, storage.Transition{ApplicationID: funded, Scope: storage.Scope{All: true}, To: storage.StatusPaid}); err != nil {
		t.Fatalf("paying the funded: %v", err)
	}
	r, err := f.db.Ranking(ctx, f.call, "anziani")
	if err != nil || !r.Approved() || r.ApprovedBy == "" || r.Stale {
		t.Fatalf("approved ranking %+v (%v)", r, err)
	}
	var n int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'ranking.approve'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("approval audit lines %d (%v)", n, err)
	}
}

// Two runs at once take turns: each application gets one decision, one event and one message, and both succeed.
func TestRankingConcurrentRunsSerialise(t *testing.T) {
	f := newRankingFixture(t, 2_000_000)
	var ids []int64
	for i := range 8 {
		id, _ := testenv.InsertDecided(t, f.db, testenv.Decided{Category: "anziani", ISEE: int64(i+1) * 1_000_00})
		ids = append(ids, id)
	}
	var mu sync.Mutex
	notified := map[int64]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.db.RunRanking(context.Background(), storage.RankingRun{CallID: f.call, Category: "anziani", Actor: f.staff,
				Now: f.at.Add(time.Duration(i) * time.Second),
				Notify: func(_ context.Context, _ pgx.Tx, changed []storage.Case, _ string) error {
					mu.Lock()
					defer mu.Unlock()
					for _, c := range changed {
						notified[c.ID]++
					}
					return nil
				}})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	for _, id := range ids {
		if n := len(f.decisionEvents(t, id)); n != 1 || notified[id] != 1 {
			t.Errorf("application %d: %d events, %d messages", id, n, notified[id])
		}
	}
	if got := f.placed(t, ids[3]); got != (placed{4, storage.StatusAdmittedFunded}) {
		t.Errorf("fourth: %+v", got)
	}
	if got := f.placed(t, ids[4]); got != (placed{5, storage.StatusAdmittedNotFunded}) {
		t.Errorf("fifth: %+v", got)
	}
}
