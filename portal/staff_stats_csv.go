package portal

import (
	"errors"
	"slices"

	"github.com/gofiber/fiber/v2"
)

// downloadStaffStatsCSV sends one table of a year's statistics (?anno=2026&tabella=measures) as CSV, with the
// headers in the staff member's language and the same figures as the page, within their scope. An unknown table
// or a year that is not one is a bad request: a file of another year than the one asked for would mislead.
func (s *Server) downloadStaffStatsCSV(c *fiber.Ctx) error {
	name := c.Query("tabella")
	if !slices.Contains(statsTableNames, name) {
		return errBadRequest(errors.New("stats csv: unknown table"))
	}
	year, _, ok, err := s.statsYear(c)
	if err != nil {
		return err
	}
	if !ok || c.Query("anno") == "" {
		return errBadRequest(errors.New("stats csv: no valid year"))
	}
	st, err := s.DB.Stats(c.UserContext(), year, staffScope(c))
	if err != nil {
		return err
	}
	t := buildStatsTables(s.localizer(c), year, st)[name]
	return sendCSV(c, statsFileName(year, name), t.Columns, t.Rows)
}
