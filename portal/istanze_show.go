package portal

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showApplications is "Le mie pratiche": drafts and submitted applications, the person's own and those filed for
// them by a relative.
func (s *Server) showApplications(c *fiber.Ctx) error {
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	apps, err := s.DB.ApplicationsFor(c.UserContext(), p.ID, p.FiscalCode)
	if err != nil {
		return err
	}
	var drafts, submitted []storage.Application
	for _, a := range apps {
		if a.Draft() {
			drafts = append(drafts, a)
		} else {
			submitted = append(submitted, a)
		}
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "applications", z.T("page.applications.title"),
		[]views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"}},
		map[string]any{"Drafts": drafts, "Submitted": submitted, "Person": p, "Measures": forms.Measures})
}

// showApplication is one application: a draft with where to resume, or a submitted one with its timeline (date
// taken in charge and deadline included), attachments, receipt and the satisfaction rating.
func (s *Server) showApplication(c *fiber.Ctx) error {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	return s.renderApplication(c, fiber.StatusOK, a, p, nil)
}

// ratingForm is a rating as typed, shown again when it needs fixing.
type ratingForm struct {
	Score, Comment, Error string
}

func (s *Server) renderApplication(c *fiber.Ctx, status int, a storage.Application, p storage.Person, typed *ratingForm) error {
	return s.renderApplicationWith(c, status, a, p, typed, nil)
}

// renderApplicationWith is the application's page with a message form as typed and an alert (message IDs).
func (s *Server) renderApplicationWith(c *fiber.Ctx, status int, a storage.Application, p storage.Person, typed *ratingForm,
	msg *messageForm, alert ...string) error {
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	atts, err := s.DB.Attachments(ctx, a.ID)
	if err != nil {
		return err
	}
	events, err := s.DB.Events(ctx, a.ID)
	if err != nil {
		return err
	}
	var rating *storage.Rating
	var kase storage.Case
	var messages []storage.Message
	var request *storage.Request
	if !a.Draft() {
		// the office's side: decision, amount, deadline, open request, messages (never internal notes)
		if kase, err = s.DB.CaseByID(ctx, a.ID, storage.Scope{All: true}); err != nil {
			return err
		}
		if messages, err = s.DB.Messages(ctx, a.ID, false); err != nil {
			return err
		}
		if r, err := s.DB.OpenRequest(ctx, a.ID); err == nil && a.Status == storage.StatusWaitingCitizen {
			request = &r
		} else if err != nil && !errors.Is(err, storage.ErrNoOpenRequest) {
			return err
		}
		r, err := s.DB.RatingOf(ctx, a.ID, p.ID)
		if err == nil {
			rating = &r
		} else if err != storage.ErrNotFound {
			return err
		}
	}
	z := s.localizer(c)
	title := measureTitle(z, a.Measure)
	if a.Protocol != nil {
		title = z.T("page.application.title", map[string]any{"Protocol": *a.Protocol})
	}
	crumbs := s.applicationCrumbs(c, a)
	resume := stepPath(a.ID, d.Steps[0].ID)
	for _, st := range journey(a, d, "") {
		if st.Done && strings.Contains(st.URL, "/passo/") {
			resume = st.URL
		}
	}
	form := ratingForm{}
	if rating != nil {
		form = ratingForm{Score: strconv.Itoa(rating.Score), Comment: rating.Comment}
	}
	if typed != nil {
		form = *typed
	}
	if msg == nil {
		msg = &messageForm{}
	}
	var mine, office []storage.Attachment
	for _, att := range atts {
		if att.SharedBy != nil {
			office = append(office, att)
		} else {
			mine = append(mine, att)
		}
	}
	withdrawable := a.ApplicantID == p.ID && storage.CanMove(a.Status, storage.StatusWithdrawn)
	return s.render(c, status, "application", title, crumbs[:len(crumbs)-1],
		map[string]any{"Application": a, "Definition": d, "MeasureTitle": measureTitle(z, a.Measure),
			"Mine": a.ApplicantID == p.ID, "Attachments": mine, "OfficeFiles": office, "Case": kase,
			"Messages": messages, "Request": request, "Message": msg, "Withdrawable": withdrawable, "Alert": firstOf(alert),
			"Answered": c.Query("risposta") == "1", "MessageSent": c.Query("messaggio") == "1", "Withdrawn": c.Query("ritirata") == "1", "Events": timeline(events), "TakenInCharge": takenInCharge(events), "Rating": rating,
			"Sections": summarize(z, d, a.Answers), "Resume": resume, "Steps": journey(a, d, ""),
			"Submitted": c.Query("inviata") == "1", "Saved": c.Query("salvata") == "1",
			"Rated": c.Query("valutata") == "1", "Scores": []int{1, 2, 3, 4, 5},
			"Score": form.Score, "Comment": form.Comment, "RatingError": form.Error})
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// rateApplication records the satisfaction rating (1–5 and an optional comment) of someone who can see the
// application.
func (s *Server) rateApplication(c *fiber.Ctx) error {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	if a.Draft() {
		return errNotFound(nil)
	}
	typed := &ratingForm{Score: c.FormValue("score"), Comment: c.FormValue("comment")}
	score, err := strconv.Atoi(typed.Score)
	comment := strings.TrimSpace(typed.Comment)
	switch {
	case err != nil || score < 1 || score > 5:
		typed.Error = "page.application.rating.choose"
	case utf8.RuneCountInString(comment) > 1000:
		typed.Error = "page.application.rating.too_long"
	}
	if typed.Error != "" {
		return s.renderApplication(c, fiber.StatusUnprocessableEntity, a, p, typed)
	}
	if err := s.DB.SetRating(c.UserContext(), a.ID, p.ID, score, comment); err != nil {
		return err
	}
	return c.Redirect(applicationPath(a.ID)+"?valutata=1#valutazione", fiber.StatusSeeOther)
}

// deleteDraft deletes a draft and its files, at the applicant's request.
func (s *Server) deleteDraft(c *fiber.Ctx) error {
	a, _, p, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	keys, err := s.DB.DeleteDraft(c.UserContext(), a.ID, p.ID)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	for _, k := range keys {
		if err := s.Documents.Delete(c.UserContext(), k); err != nil {
			s.Log.Error("stored file left behind", "key", k, "err", err)
		}
	}
	return c.Redirect(applicationsPath, fiber.StatusSeeOther)
}

// timelineEntry is one event as the resident reads it.
type timelineEntry struct {
	Kind     string
	At       time.Time
	Deadline *time.Time // taken in charge: by when a decision is due
}

func timeline(events []storage.Event) []timelineEntry {
	out := make([]timelineEntry, 0, len(events))
	for _, e := range events {
		entry := timelineEntry{Kind: e.Kind, At: e.At}
		if d, err := time.ParseInLocation(time.DateOnly, e.Data["deadline"], i18n.Rome); err == nil {
			entry.Deadline = &d
		}
		out = append(out, entry)
	}
	return out
}

// takenInCharge is the latest "taken in charge" event, nil before it (PNRR checklist: date and deadline shown).
func takenInCharge(events []storage.Event) *timelineEntry {
	var last *timelineEntry
	for _, e := range timeline(events) {
		if e.Kind == "taken_in_charge" {
			last = &e
		}
	}
	return last
}
