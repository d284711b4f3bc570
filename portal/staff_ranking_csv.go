package portal

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// downloadStaffRankingCSV is the graduatoria for the commission: every column, one row per application in ranking
// order, as sendCSV writes it for Excel (cells a spreadsheet would take for formulas neutralised). The export
// carries names and fiscal codes, so it is written to the audit log.
func (s *Server) downloadStaffRankingCSV(c *fiber.Ctx) error {
	v, err := s.loadRanking(c)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	header := []string{z.T("staff.ranking.col.position"), z.T("staff.ranking.col.protocol"), z.T("staff.ranking.col.last_name"),
		z.T("staff.ranking.col.first_name"), z.T("staff.ranking.col.fiscal_code"), z.T("staff.ranking.col.comune"),
		z.T("staff.ranking.col.isee"), z.T("staff.ranking.col.received"), z.T("staff.ranking.col.monthly"),
		z.T("staff.ranking.col.months"), z.T("staff.ranking.col.amount"), z.T("staff.ranking.col.outcome"),
		z.T("staff.ranking.col.running"), z.T("staff.ranking.col.budget")}
	rows := make([][]string, 0, len(v.Entries))
	for _, e := range v.Entries {
		pos, isee, monthly, months, amount := "", "", "", "", ""
		if e.Position != nil {
			pos = strconv.Itoa(*e.Position)
		}
		if n, ok := e.ISEE(); ok {
			isee = csvEuro(n)
		}
		if e.HasAmt {
			amount = csvEuro(e.Amount.Total())
			if e.Amount.Period == "month" {
				monthly, months = csvEuro(e.Amount.Cents), strconv.Itoa(e.Amount.Months)
			}
		}
		rows = append(rows, []string{pos, e.Protocol, e.Answers.Get("last_name"), e.Answers.Get("first_name"), e.BeneficiaryCF,
			e.ComuneName, isee, e.SubmittedAt.In(i18n.Rome).Format("02/01/2006 15:04:05"), monthly, months, amount,
			z.T("staff.ranking.outcome." + e.Status), csvEuro(e.Running), csvEuro(v.Budget)})
	}
	if err := s.DB.Audit(c.UserContext(), staffActor(c), storage.AuditEntry{Action: "ranking.export",
		Detail: map[string]string{"call": strconv.FormatInt(v.Call.ID, 10), "category": v.Key}}); err != nil {
		return err
	}
	name := fmt.Sprintf("graduatoria-%s-%d-%s.csv", v.Call.Measure, v.Call.Year, v.Key)
	return sendCSV(c, name, header, rows)
}

// csvEuro writes cents as Italian Excel reads a number: comma decimals, no grouping ("4800,00").
func csvEuro(cents int64) string {
	return fmt.Sprintf("%d,%02d", cents/100, cents%100)
}
