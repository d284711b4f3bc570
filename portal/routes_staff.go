package portal

import (
	"bytes"
	"encoding/gob"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// staffRoutes is the back office at a glance. Every page has the staff session (cookie csc_staff), never the
// citizens' one; the pages behind sign-in load the account on each request, so a role change, a reset or a
// disabled account takes effect at once.
func (s *Server) staffRoutes() {
	app := s.app
	staffMW := []fiber.Handler{s.timeout, s.crossOriginMiddleware, s.formRateLimit, s.staffSessions.middleware(s.now),
		s.languageMiddleware, staffNoStore}
	staff := append([]fiber.Handler{s.limitBody}, staffMW...)
	signIn := chain(staff...)
	anyRole := chain(append(slices.Clone(staff), s.requireStaff())...)
	admin := chain(append(slices.Clone(staff), s.requireStaff(storage.RoleAdmin))...)
	district := chain(append(slices.Clone(staff), s.requireStaff(storage.RoleAdmin, storage.RoleCoordinatore))...)
	upload := chain(append(slices.Clone(staffMW), s.requireStaff())...) // anyRole without limitBody

	// Sign-in: password, then the TOTP code (or enrolment, the first time; or a recovery code).
	app.Get("/backoffice/accesso", signIn(s.showStaffSignInPage)...)
	app.Post("/backoffice/accesso", signIn(s.submitStaffSignIn)...)
	app.Get("/backoffice/accesso/attivazione", signIn(s.showStaffTOTPEnrolPage)...)
	app.Post("/backoffice/accesso/attivazione", signIn(s.submitStaffTOTPEnrol)...)
	app.Get("/backoffice/accesso/codice", signIn(s.showStaffTOTPPage)...)
	app.Post("/backoffice/accesso/codice", signIn(s.submitStaffTOTP)...)
	app.Get("/backoffice/accesso/recupero", signIn(s.showStaffRecoveryPage)...)
	app.Post("/backoffice/accesso/recupero", signIn(s.submitStaffRecovery)...)
	app.Post("/backoffice/esci", signIn(s.submitStaffSignOut)...)

	app.Get("/backoffice", anyRole(s.showStaffHomePage)...)
	app.Get("/backoffice/codici-recupero", anyRole(s.showStaffRecoveryCodesPage)...)
	app.Get("/backoffice/password", anyRole(s.showStaffPasswordPage)...)
	app.Post("/backoffice/password", anyRole(s.submitStaffPassword)...)

	// Pratiche: the queue and each application, within the account's scope (in every query); reads and changes
	// are audited.
	app.Get(casesPath, anyRole(s.showStaffCasesPage)...)
	app.Post(casesPath+"/prossima", anyRole(s.submitStaffTakeNext)...)
	app.Get(casesPath+"/:id<int>", anyRole(s.showStaffCasePage)...)
	app.Get(casesPath+"/:id<int>/allegati/:file<int>", anyRole(s.downloadStaffDocument)...)
	app.Post(casesPath+"/:id<int>/presa-in-carico", anyRole(s.submitStaffCaseTake)...)
	app.Post(casesPath+"/:id<int>/assegna", district(s.submitStaffCaseAssign)...)
	app.Post(casesPath+"/:id<int>/richiesta", anyRole(s.submitStaffCaseRequest)...)
	app.Post(casesPath+"/:id<int>/riprendi", anyRole(s.submitStaffCaseResume)...)
	app.Post(casesPath+"/:id<int>/decisione", anyRole(s.submitStaffCaseDecision)...)
	app.Post(casesPath+"/:id<int>/pagata", anyRole(s.submitStaffCasePaid)...)
	app.Post(casesPath+"/:id<int>/messaggi", anyRole(s.submitStaffCaseMessage)...)
	app.Post(casesPath+"/:id<int>/documenti", upload(s.submitStaffCaseShare)...)

	// Sportelli: every query carries the scope condition.
	app.Get("/backoffice/sedi", anyRole(s.showStaffOfficesPage)...)
	app.Get("/backoffice/sedi/:code", anyRole(s.showStaffOfficeEditPage)...)
	app.Post("/backoffice/sedi/:code", anyRole(s.submitStaffOffice)...)

	// Appointments: the calendar of the offices in scope (every query carries the scope condition), blocked time,
	// arrivals and no-shows, booking for a resident on the phone.
	app.Get(calendarPath, anyRole(s.showStaffCalendarPage)...)
	app.Post(calendarPath+"/blocchi", anyRole(s.submitStaffCalendarBlock)...)
	app.Post(calendarPath+"/blocchi/:id<int>/rimuovi", anyRole(s.submitStaffCalendarUnblock)...)
	app.Post(calendarPath+"/:id<int>/arrivato", anyRole(s.submitStaffBookingArrived)...)
	app.Post(calendarPath+"/:id<int>/assente", anyRole(s.submitStaffBookingNoShow)...)
	app.Post(calendarPath+"/:id<int>/operatore", anyRole(s.submitStaffBookingAssign)...)
	app.Get(staffBookPath, anyRole(s.showStaffBookForPage)...)
	app.Post(staffBookPath, anyRole(s.submitStaffBookFor)...)
	app.Post(staffBookPath+"/persona", anyRole(s.submitStaffPersonCreate)...)

	// Services and weekly availability: admins and coordinatori (the offices carry the scope condition too).
	app.Get(servicesPath, district(s.showStaffServicesPage)...)
	app.Get(servicesPath+"/:code", district(s.showStaffServiceEditPage)...)
	app.Post(servicesPath+"/:code", district(s.submitStaffService)...)
	app.Get(availabilityPath, district(s.showStaffAvailabilityPage)...)
	app.Post(availabilityPath+"/orari", district(s.submitStaffPatternAdd)...)
	app.Post(availabilityPath+"/orari/:id<int>/rimuovi", district(s.submitStaffPatternRemove)...)
	app.Post(availabilityPath+"/eccezioni", district(s.submitStaffExceptionAdd)...)
	app.Post(availabilityPath+"/eccezioni/:id<int>/rimuovi", district(s.submitStaffExceptionRemove)...)
	// Online colloqui (colloqui.go): the assigned worker's door to the room, its WebSocket, the mediator's invitation.
	app.Get(staffColloquiPath+"/:id<int>", anyRole(s.showStaffColloquioPage)...)
	app.Get(staffColloquiPath+"/:id<int>/ws", chain(s.crossOriginMiddleware, s.staffSessions.middleware(s.now),
		s.languageMiddleware, staffNoStore)(s.openStaffColloquioSocket)...)
	app.Get(staffColloquiPath+"/:id<int>/invito", anyRole(s.showColloquioInvitePage)...)
	app.Post(staffColloquiPath+"/:id<int>/invito", anyRole(s.submitColloquioInvite)...)
	app.Post(staffColloquiPath+"/:id<int>/invito/revoca", anyRole(s.submitColloquioInviteRevoke)...)

	// Statistics for planning: every role, each within its scope (in the queries), and their tables as CSV.
	app.Get("/backoffice/statistiche", anyRole(s.showStaffStatsPage)...)
	app.Get("/backoffice/statistiche.csv", anyRole(s.downloadStaffStatsCSV)...)

	// Calls (avvisi): admins and coordinatori. A change reaches the public pages within their cache's ten seconds
	// (pageCacheTTL).
	app.Get("/backoffice/avvisi", district(s.showStaffCallsPage)...)
	app.Get("/backoffice/avvisi/nuovo", district(s.showStaffCallNewPage)...)
	app.Post("/backoffice/avvisi/nuovo", district(s.submitStaffCallNew)...)
	app.Get("/backoffice/avvisi/:id<int>", district(s.showStaffCallEditPage)...)
	app.Post("/backoffice/avvisi/:id<int>", district(s.submitStaffCallEdit)...)
	app.Post("/backoffice/avvisi/:id<int>/apri", district(s.submitStaffCallOpenNow)...)
	app.Post("/backoffice/avvisi/:id<int>/chiudi", district(s.submitStaffCallCloseNow)...)

	// Graduatorie: admins and coordinatori run them and record the commission's approval (the CSV route first: the
	// page's pattern would take "anziani.csv" for a category).
	app.Get("/backoffice/graduatorie", district(s.showStaffRankingsPage)...)
	app.Get("/backoffice/graduatorie/:call<int>/:category.csv", district(s.downloadStaffRankingCSV)...)
	app.Get("/backoffice/graduatorie/:call<int>/:category", district(s.showStaffRankingPage)...)
	app.Post("/backoffice/graduatorie/:call<int>/:category/ricalcola", district(s.submitStaffRankingRun)...)
	app.Post("/backoffice/graduatorie/:call<int>/:category/approva", district(s.submitStaffRankingApprove)...)

	// The audit log: admins only, read only.
	app.Get("/backoffice/audit", admin(s.showStaffAuditPage)...)

	// Accounts: admins only.
	app.Get("/backoffice/utenti", admin(s.showStaffUsersPage)...)
	app.Get("/backoffice/notifiche", admin(s.showFailedDeliveriesPage)...)
	app.Get("/backoffice/utenti/nuovo", admin(s.showStaffUserCreatePage)...)
	app.Post("/backoffice/utenti/nuovo", admin(s.submitStaffUserCreate)...)
	app.Get("/backoffice/utenti/:id<int>", admin(s.showStaffUserPage)...)
	app.Post("/backoffice/utenti/:id<int>/ruolo", admin(s.submitStaffUserRole)...)
	app.Post("/backoffice/utenti/:id<int>/totp", admin(s.submitStaffUserTOTPReset)...)
	app.Post("/backoffice/utenti/:id<int>/sblocca", admin(s.submitStaffUserUnlock)...)
	app.Post("/backoffice/utenti/:id<int>/password", admin(s.submitStaffUserPassword)...)
	app.Post("/backoffice/utenti/:id<int>/disattiva", admin(s.submitStaffUserDisable)...)
	app.Post("/backoffice/utenti/:id<int>/riattiva", admin(s.submitStaffUserEnable)...)

	// Tokens of the district's other systems for the JSON API (api.go): admins only.
	app.Get(staffAPIPath, admin(s.showStaffAPITokensPage)...)
	app.Post(staffAPIPath, admin(s.submitStaffAPITokenCreate)...)
	app.Post(staffAPIPath+"/:id<int>/revoca", admin(s.submitStaffAPITokenRevoke)...)
}

// Staff session keys (the signed-in account is keyUser, "s:<id>", set by Session.SignIn).
const (
	keyStaffPending   = "staff_pending"    // account ID whose password was right, awaiting its code
	keyStaffPendingAt = "staff_pending_at" // unix seconds: the password step is valid for staffPendingTTL
	keyStaffCodes     = "staff_codes"      // recovery codes to show once, newline-separated
	keyStaffNotice    = "staff_notice"     // message ID of a confirmation shown on the next page
	keyStaffOneTime   = "staff_one_time"   // "<id>\n<password>": a one-time password to show once to the admin
)

const localStaff = "portal.staff"

// staffNoStore keeps back-office pages (and their redirects and errors) out of every cache.
func staffNoStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// requireStaff lets through a signed-in, enabled staff account with one of roles (any role when none are given).
// Without a staff session a page view goes to the sign-in page, unless the browser carries a signed-in citizen
// session: a resident who wanders onto a back-office address is refused, not invited to sign in.
func (s *Server) requireStaff(roles ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sess := s.staffSessions.of(c)
		id := staffIDOf(sess.User())
		var u storage.StaffUser
		err := storage.ErrNotFound
		if id != 0 {
			u, err = s.DB.StaffUserByID(c.UserContext(), id)
		}
		if err == nil && u.DisabledAt != nil {
			err = storage.ErrNotFound
		}
		if errors.Is(err, storage.ErrNotFound) {
			if id != 0 { // the account was deleted or disabled since sign-in
				if err := sess.SignOut(c.UserContext()); err != nil {
					return err
				}
			}
			citizen, err := s.citizenSignedIn(c)
			if err != nil {
				return err
			}
			if citizen {
				return errStaffForbidden(nil)
			}
			return c.Redirect("/backoffice/accesso", fiber.StatusSeeOther)
		}
		if err != nil {
			return err
		}
		if len(roles) > 0 && !slices.Contains(roles, u.Role) {
			return errStaffForbidden(nil)
		}
		if u.MustChangePassword && c.Path() != "/backoffice/password" && c.Path() != "/backoffice/codici-recupero" {
			return c.Redirect("/backoffice/password", fiber.StatusSeeOther)
		}
		c.Locals(localStaff, &u)
		return c.Next()
	}
}

// currentStaff is the signed-in account on pages behind requireStaff.
func currentStaff(c *fiber.Ctx) *storage.StaffUser {
	u, _ := c.Locals(localStaff).(*storage.StaffUser)
	return u
}

func staffIDOf(user string) int64 {
	v, ok := strings.CutPrefix(user, "s:")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(v, 10, 64)
	return id
}

func staffKey(id int64) string { return "s:" + strconv.FormatInt(id, 10) }

// citizenSignedIn reports whether the request carries a citizen session with a signed-in person. It reads the
// session straight from Redis: running the citizens' session middleware here would create a session for them.
func (s *Server) citizenSignedIn(c *fiber.Ctx) (bool, error) {
	id := c.Cookies(SessionCookie)
	if id == "" || len(id) > 64 {
		return false, nil
	}
	raw, err := s.Redis.Get(c.UserContext(), s.sessions.prefix+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var data map[string]any
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&data); err != nil {
		return false, nil // not a session the portal wrote
	}
	user, _ := data[keyUser].(string)
	return user != "", nil
}

func errStaffForbidden(cause error) error {
	return &Error{Status: fiber.StatusForbidden, Msg: "forbidden", Cause: cause}
}

// renderStaff renders a back-office page. data always carries the signed-in account (nil on the sign-in pages)
// for the menu, and the confirmation left by the previous request.
func (s *Server) renderStaff(c *fiber.Ctx, status int, page, title string, crumbs []views.Crumb, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["Staff"] = currentStaff(c)
	if sess := s.staffSessions.of(c); sess != nil {
		if n, _ := sess.Get(keyStaffNotice).(string); n != "" {
			data["Notice"] = n
			sess.Set(keyStaffNotice, "")
		}
	}
	return s.render(c, status, page, title, crumbs, data)
}

// staffCrumb is the first breadcrumb of the back office.
func (s *Server) staffCrumb(c *fiber.Ctx) views.Crumb {
	return views.Crumb{Title: s.localizer(c).T("staff.nav.home"), URL: "/backoffice"}
}

// redirectWithNotice leaves a confirmation for the next page and redirects there (POST, then GET).
func (s *Server) redirectWithNotice(c *fiber.Ctx, to, notice string) error {
	s.staffSessions.of(c).Set(keyStaffNotice, notice)
	return c.Redirect(to, fiber.StatusSeeOther)
}
