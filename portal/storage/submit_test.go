package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The one-statement submit refuses a draft that lacks a required document — two files of one type do not make up
// for a missing other type — and the fallback names what is missing; with every type attached it receives it.
func TestSubmitNeedsEveryRequiredDocument(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	var callID, personID int64
	var version string
	var opens time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT id, form_version, opens_at FROM calls WHERE measure = 'fna-b2' ORDER BY year DESC LIMIT 1`).
		Scan(&callID, &version, &opens); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO people (fiscal_code) VALUES ('TSTSBM85T10D142X') RETURNING id`).Scan(&personID); err != nil {
		t.Fatal(err)
	}
	id, err := db.CreateDraft(ctx, callID, personID, "SUBMITTESTKEYAAAAAAAAAAAAA", version)
	if err != nil {
		t.Fatal(err)
	}
	attach := func(docType string, n int) {
		t.Helper()
		a := storage.Attachment{ApplicationID: id, DocType: docType, FileName: docType + ".pdf", ContentType: "application/pdf",
			Size: 100, SHA256: fmt.Sprintf("%064x", n), StorageKey: fmt.Sprintf("submit-test-%d", n)}
		if _, err := db.AddAttachment(ctx, personID, a, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	attach("isee_attestation", 1)
	attach("isee_attestation", 2)

	sub := storage.Submission{ID: id, ApplicantID: personID, Answers: forms.Answers{Definition: version},
		BeneficiaryCF: "TSTSBM85T10D142X", Comune: "crema", Category: "anziani",
		RequiredDocs: []string{"id_document", "isee_attestation"},
		RankingKey:   func(time.Time) string { return "k" }}
	// the statement's own message: nothing to send in this test, the CTE only has to be there
	none := &storage.InlineMessage{SQL: func(int, string, string) string { return "SELECT 1" }}
	then := func(pgx.Tx, storage.Received) error { return nil }
	at := opens.Add(time.Hour)

	_, err = db.Submit(ctx, sub, at, none, then)
	var md *storage.MissingDocumentsError
	if !errors.As(err, &md) || !slices.Equal(md.Types, []string{"id_document"}) {
		t.Fatalf("submit without an identity document: %v, want it named missing", err)
	}
	attach("id_document", 3)
	r, err := db.Submit(ctx, sub, at, none, then)
	if err != nil || r.Protocol == "" || r.Already {
		t.Fatalf("submit with every document: %+v, %v", r, err)
	}
}
