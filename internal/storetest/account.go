package storetest

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

func testAccounts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := &vigil.User{Name: "carla", Role: vigil.RoleAnalyst, PasswordHash: "h1", TOTPSecret: "JBSWY3DPEHPK3PXP"}
	other := &vigil.User{Name: "dirk", Role: vigil.RoleAnalyst, PasswordHash: "h2"}
	for _, x := range []*vigil.User{u, other} {
		if err := db.CreateUser(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.FindUserByID(ctx, u.ID)
	if err != nil || !got.HasTOTP() || got.TOTPLastStep != 0 || got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("new user: %+v %v", got, err)
	}

	// The staff pages' language: a preference, checked.
	if got.Language != "" {
		t.Errorf("new user's language %q, want empty (the browser's)", got.Language)
	}
	if err := db.SetUserLanguage(ctx, u.ID, vigil.LangNL); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindUserByName(ctx, "carla"); err != nil || got.Language != vigil.LangNL {
		t.Errorf("language after setting nl: %+v %v", got, err)
	}
	if err := db.SetUserLanguage(ctx, u.ID, "xx"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("language xx: want invalid, got %v", err)
	}
	if err := db.SetUserLanguage(ctx, 9999, vigil.LangFR); !vigil.IsNotFound(err) {
		t.Errorf("language of a missing user: want not found, got %v", err)
	}

	// The replay guard only moves forward.
	if err := db.UseTOTPStep(ctx, u.ID, 100); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{100, 99} {
		if err := db.UseTOTPStep(ctx, u.ID, step); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("step %d again: want conflict, got %v", step, err)
		}
	}

	// Lockout: the count survives in the database and the lock follows it.
	now := time.Now().UTC()
	lock := func(n int) time.Duration {
		if n < 3 {
			return 0
		}
		return time.Duration(n) * time.Minute
	}
	for i := 1; i <= 3; i++ {
		got, err = db.ReserveLoginAttempt(ctx, u.ID, now, lock)
		if err != nil || got.FailedLogins != i {
			t.Fatalf("failure %d: %+v %v", i, got, err)
		}
	}
	if !got.LockedUntil.Equal(now.Add(3 * time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("locked until %v", got.LockedUntil)
	}
	// Locked: no reservation, nothing counted.
	if _, err := db.ReserveLoginAttempt(ctx, u.ID, now.Add(time.Minute), lock); vigil.ErrorCode(err) != vigil.ERATELIMIT {
		t.Errorf("reservation while locked: want rate limited, got %v", err)
	}
	// The reservation that set the lock gives it back (its password was
	// right); an older one does not lift a later reservation's lock.
	if err := db.ReleaseLoginAttempt(ctx, u.ID, 2); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.FindUserByID(ctx, u.ID); got.FailedLogins != 2 || got.LockedUntil.IsZero() {
		t.Errorf("after releasing an older reservation: %+v", got)
	}
	if err := db.ReleaseLoginAttempt(ctx, u.ID, 2); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.FindUserByID(ctx, u.ID); got.FailedLogins != 1 || !got.LockedUntil.IsZero() {
		t.Errorf("after releasing the last reservation: %+v", got)
	}
	// Simultaneous reservations: no more than the lock allows get one.
	var wg sync.WaitGroup
	var granted atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.ReserveLoginAttempt(ctx, u.ID, now, lock); err == nil {
				granted.Add(1)
			} else if vigil.ErrorCode(err) != vigil.ERATELIMIT {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := granted.Load(); n != 2 {
		t.Errorf("%d simultaneous reservations granted, want 2 (1 failure already, lock at 3)", n)
	}
	if err := db.RecordLoginSuccess(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.FindUserByID(ctx, u.ID); got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after success: %+v", got)
	}
	if _, err := db.ReserveLoginAttempt(ctx, 9999, now, lock); !vigil.IsNotFound(err) {
		t.Errorf("missing user: want not found, got %v", err)
	}

	// Enrolment: confirm only the pending secret that is still pending.
	if err := db.SetTOTPPending(ctx, other.ID, "AAAA"); err != nil {
		t.Fatal(err)
	}
	if err := db.ConfirmTOTP(ctx, other.ID, "BBBB", 5); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("confirm another secret: want conflict, got %v", err)
	}
	if err := db.ConfirmTOTP(ctx, other.ID, "AAAA", 5); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.FindUserByID(ctx, other.ID); got.TOTPSecret != "AAAA" || got.TOTPPending != "" || got.TOTPLastStep != 5 {
		t.Errorf("after confirm: %+v", got)
	}

	// Sessions: two-factor flag, and updates end them.
	h := sha256.Sum256([]byte("carla-token"))
	sess := &vigil.Session{TokenHash: h[:], UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if s, err := db.FindSession(ctx, h[:], now, time.Hour); err != nil || s.TwoFactor {
		t.Fatalf("session: %+v %v", s, err)
	}
	if err := db.SetSessionTwoFactor(ctx, h[:]); err != nil {
		t.Fatal(err)
	}
	if s, err := db.FindSession(ctx, h[:], now, time.Hour); err != nil || !s.TwoFactor {
		t.Fatalf("two-factor session: %+v %v", s, err)
	}
	role := vigil.RoleSupervisor
	disabled := true
	got, err = db.UpdateUser(ctx, u.ID, vigil.UserUpdate{Role: &role, Disabled: &disabled, ResetTOTP: true})
	if err != nil || got.Role != role || !got.Disabled || got.HasTOTP() || got.TOTPLastStep != 0 {
		t.Fatalf("UpdateUser: %+v %v", got, err)
	}
	if got, _ = db.FindUserByID(ctx, u.ID); got.Role != role || !got.Disabled || got.HasTOTP() {
		t.Errorf("read back after update: %+v", got)
	}
	if _, err := db.FindSession(ctx, h[:], now, time.Hour); !vigil.IsNotFound(err) {
		t.Errorf("session after update: want not found, got %v", err)
	}
	bad := vigil.Role("root")
	if _, err := db.UpdateUser(ctx, u.ID, vigil.UserUpdate{Role: &bad}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad role: want invalid, got %v", err)
	}
	if _, err := db.UpdateUser(ctx, 9999, vigil.UserUpdate{}); !vigil.IsNotFound(err) {
		t.Errorf("missing user: want not found, got %v", err)
	}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSession(ctx, h[:], now, time.Hour); !vigil.IsNotFound(err) {
		t.Errorf("after DeleteUserSessions: want not found, got %v", err)
	}
}
