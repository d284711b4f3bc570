package portal

import (
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// staffUserForm is what the new-account and role forms post.
type staffUserForm struct {
	Username, FullName, Role string
	Scopes                   []string
	Errors                   map[string]string
}

// HasScope is for the checkboxes.
func (f *staffUserForm) HasScope(code string) bool { return slices.Contains(f.Scopes, code) }

// parseStaffRole reads and checks the role and the scope: an operatore needs at least one sub-ambito.
func (s *Server) parseStaffRole(c *fiber.Ctx, f *staffUserForm, known []storage.SubAmbito) {
	f.Role = c.FormValue("role")
	f.Scopes = nil
	for _, v := range c.Request().PostArgs().PeekMulti("scope") {
		f.Scopes = append(f.Scopes, string(v))
	}
	if !slices.Contains(storage.Roles, f.Role) {
		f.Errors["role"] = "staff.error.role"
	}
	for _, sc := range f.Scopes {
		if !slices.ContainsFunc(known, func(a storage.SubAmbito) bool { return a.Code == sc }) {
			f.Errors["scope"] = "staff.error.scope"
		}
	}
	if f.Role == storage.RoleOperatore && len(f.Scopes) == 0 {
		f.Errors["scope"] = "staff.error.scope_required"
	}
	if f.Role != storage.RoleOperatore {
		f.Scopes = nil
	}
}

func (s *Server) showStaffUserCreatePage(c *fiber.Ctx) error {
	return s.renderStaffUserCreate(c, fiber.StatusOK, &staffUserForm{Role: storage.RoleOperatore, Errors: map[string]string{}}, "")
}

func (s *Server) renderStaffUserCreate(c *fiber.Ctx, status int, f *staffUserForm, alert string) error {
	subAmbiti, err := s.DB.SubAmbiti(c.UserContext())
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.renderStaff(c, status, "staff_user_new", z.T("staff.user.new_title"),
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.users.title"), URL: "/backoffice/utenti"}},
		map[string]any{"Form": f, "Errors": f.Errors, "Alert": alert, "SubAmbiti": subAmbiti, "Roles": storage.Roles})
}

// submitStaffUserCreate creates an account with a one-time password, shown once to the admin on the next page.
func (s *Server) submitStaffUserCreate(c *fiber.Ctx) error {
	ctx := c.UserContext()
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	f := &staffUserForm{Errors: map[string]string{},
		Username: strings.ToLower(strings.TrimSpace(c.FormValue("username"))),
		FullName: strings.Join(strings.Fields(c.FormValue("full_name")), " ")}
	if !storage.StaffUsernamePattern.MatchString(f.Username) {
		f.Errors["username"] = "staff.error.username_format"
	}
	if f.FullName == "" || utf8.RuneCountInString(f.FullName) > 120 || strings.IndexFunc(f.FullName, unicode.IsControl) >= 0 {
		f.Errors["full_name"] = "staff.error.full_name"
	}
	s.parseStaffRole(c, f, subAmbiti)
	if len(f.Errors) > 0 {
		return s.renderStaffUserCreate(c, fiber.StatusUnprocessableEntity, f, s.localizer(c).T("staff.error.form"))
	}
	password, hash, err := oneTimePassword()
	if err != nil {
		return err
	}
	id, err := s.DB.CreateStaff(ctx, storage.NewStaff{Username: f.Username, FullName: f.FullName, Role: f.Role,
		Scopes: f.Scopes, PasswordHash: hash, MustChangePassword: true})
	if errors.Is(err, storage.ErrUsernameTaken) {
		f.Errors["username"] = "staff.error.username_taken"
		return s.renderStaffUserCreate(c, fiber.StatusUnprocessableEntity, f, s.localizer(c).T("staff.error.form"))
	}
	if err != nil {
		return err
	}
	s.staffSessions.of(c).Set(keyStaffOneTime, strconv.FormatInt(id, 10)+"\n"+password)
	return s.redirectWithNotice(c, "/backoffice/utenti/"+strconv.FormatInt(id, 10), "staff.user.created")
}

// oneTimePassword returns a random password (130 bits, as the demo accounts get) and its hash; the account must
// change it at first sign-in.
func oneTimePassword() (string, string, error) {
	p := rand.Text()
	h, err := auth.HashPassword(p)
	return p, h, err
}
