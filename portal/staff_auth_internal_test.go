package portal

import (
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

func TestNormalizeDigits(t *testing.T) {
	for in, want := range map[string]string{
		"123456": "123456", " 123 456 ": "123456", "123-456": "123456",
		"١٢٣٤٥٦": "123456", // Arabic-Indic
		"۱۲۳۴۵۶": "123456", // Extended Arabic-Indic (Persian, Urdu keyboards)
		"੧੨੩੪੫੬": "123456", // Gurmukhi
		"１２３４５６": "123456", // full-width, from Chinese input methods
		"12a456": "", "": "",
	} {
		if got := normalizeDigits(in); got != want {
			t.Errorf("normalizeDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for in, want := range map[string]string{
		"ABCD-EFGH-JKLM-NPQR": "ABCDEFGHJKLMNPQR", "abcd efgh jklm npqr": "ABCDEFGHJKLMNPQR",
		"ABCD-EFGH-JKLM-NPQ": "", "ABCD-EFGH-JKLM-NPQ1": "", "ABCD-EFGH-JKLM-NPQR-A": "",
	} {
		if got := normalizeRecoveryCode(in); got != want {
			t.Errorf("normalizeRecoveryCode(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range newRecoveryCodes() {
		if normalizeRecoveryCode(c) == "" {
			t.Errorf("generated code %q does not read back", c)
		}
	}
}

// The lockout policy, step by step.
func TestStaffLockoutPolicy(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var a storage.StaffAttempts
	now := t0
	for i := 1; i <= 5; i++ {
		if next, _ := staffNextAttempt(a, now); !next.IsZero() {
			t.Fatalf("failure %d must be free", i)
		}
		a = staffRecordFailure(a, now)
	}
	if next, locked := staffNextAttempt(a, now); !next.Equal(t0.Add(30*time.Second)) || locked {
		t.Fatalf("after 5 failures: next %v locked %v", next, locked)
	}
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		now = now.Add(wait)
		if next, _ := staffNextAttempt(a, now); !next.IsZero() {
			t.Fatalf("failure %d: still waiting at %v", 6+i, now)
		}
		a = staffRecordFailure(a, now)
	}
	if next, locked := staffNextAttempt(a, now); !locked || !next.Equal(now.Add(time.Hour)) {
		t.Fatalf("after 10 failures: next %v locked %v", next, locked)
	}
	// After the lock, a new window: failures start again from one.
	now = now.Add(time.Hour)
	if next, _ := staffNextAttempt(a, now); !next.IsZero() {
		t.Fatal("lock did not lift after an hour")
	}
	if a = staffRecordFailure(a, now); a.Failures != 1 {
		t.Errorf("new window starts at %d failures", a.Failures)
	}
	// Failures spread over more than an hour never add up to a back-off.
	a = storage.StaffAttempts{}
	for i := 0; i < 20; i++ {
		now = now.Add(15 * time.Minute)
		if next, _ := staffNextAttempt(a, now); !next.IsZero() {
			t.Fatalf("slow failure %d refused", i)
		}
		a = staffRecordFailure(a, now)
	}
}
