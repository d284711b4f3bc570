package forms

import "time"

// B2MinMonths is the least number of months of FNA Misura B2 (buono or voucher) the assisted person must have
// received in the year for the family caregiver to get the one-off caregiver bonus (DGR 4443/2021). The caregiver
// definition's rule b2_months states the same number; a test keeps them equal.
const B2MinMonths = 3

// Period is a span of days, From and To included, in which a measure ran — for B2, the months its buono or voucher
// was paid for. A zero To means it is still running; a zero From, that it began before any year asked about.
type Period struct {
	From, To time.Time
}

// B2MonthsInYear counts the calendar months of year in which at least one of the periods ran for at least one day:
// B2 is paid by the month, so a month begun is a month of B2. Overlapping periods (a renewal recorded twice, a
// change of intervention within a month) count each month once; a period with To before From counts nothing; a
// still-running period counts to the end of the year, so pass To as today to count only the months already begun.
// Days are read in each time's own location, as calendar days.
func B2MonthsInYear(periods []Period, year int) int {
	var months [12]bool
	first := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(year, time.December, 31, 0, 0, 0, 0, time.UTC)
	for _, p := range periods {
		from, to := day(p.From), day(p.To)
		if p.To.IsZero() {
			to = last
		}
		from, to = later(from, first), earlier(to, last)
		if to.Before(from) {
			continue
		}
		for m := from.Month(); m <= to.Month(); m++ {
			months[m-1] = true
		}
	}
	n := 0
	for _, ran := range months {
		if ran {
			n++
		}
	}
	return n
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
