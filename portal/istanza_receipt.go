package portal

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/receipt"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// downloadReceipt sends the PDF receipt of a submitted application to its applicant or beneficiary. It is made
// from the stored application each time, in Italian (the legal text), so it always says what was received.
func (s *Server) downloadReceipt(c *fiber.Ctx) error {
	a, _, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	if a.Draft() {
		return errNotFound(errors.New("istanza: a draft has no receipt"))
	}
	atts, err := s.DB.Attachments(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	r, err := s.receiptOf(a, atts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := receipt.Render(r, &buf); err != nil {
		return err
	}
	return sendDownload(c, "ricevuta-"+*a.Protocol+".pdf", "application/pdf", buf.Bytes())
}

// receiptOf builds the receipt in Italian from a submitted application.
func (s *Server) receiptOf(a storage.Application, atts []storage.Attachment) (receipt.Receipt, error) {
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return receipt.Receipt{}, err
	}
	it := s.I18n.Localizer("it")
	ans := a.Answers
	r := receipt.Receipt{
		Protocol:    *a.Protocol,
		ReceivedAt:  *a.SubmittedAt,
		Measure:     measureTitle(it, a.Measure),
		CallTitle:   it.T("page.application.call_of", map[string]any{"Year": strconv.Itoa(a.Year)}),
		Applicant:   receipt.Person{Name: a.ApplicantName, FiscalCode: a.ApplicantCF},
		FormVersion: a.FormVersion,
	}
	if a.OnBehalf {
		r.Beneficiary = receipt.Person{Name: ans.Get("first_name") + " " + ans.Get("last_name"), FiscalCode: ans.Get("beneficiary_cf")}
		if f, ok := d.Field("relationship"); ok {
			r.Relationship = displayValue(it, f, ans)
		}
	}
	for _, sec := range summarize(it, d, ans) {
		out := receipt.Section{Title: it.T(sec.Title)}
		for _, row := range sec.Rows {
			if f, _ := d.Field(row.Field); f.MustBeYes {
				r.Declarations = append(r.Declarations, it.T(f.Label))
				continue
			}
			out.Rows = append(out.Rows, receipt.Row{Label: it.T(row.Label), Value: row.Value})
		}
		if len(out.Rows) > 0 {
			r.Sections = append(r.Sections, out)
		}
	}
	for _, att := range atts {
		label := att.DocType
		for _, doc := range d.Documents {
			if doc.Type == att.DocType {
				label = it.T(doc.Label)
			}
		}
		r.Attachments = append(r.Attachments, receipt.Attachment{Type: label, FileName: att.FileName, Size: att.Size, SHA256: att.SHA256})
	}
	return r, nil
}
