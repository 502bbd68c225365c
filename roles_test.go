package vigil

import "testing"

func TestSeveralRoles(t *testing.T) {
	r, err := ParseRole("analyst, Admin")
	if err != nil || r != "admin,analyst" {
		t.Fatalf("ParseRole: %q %v", r, err)
	}
	if !r.Has(RoleAdmin) || !r.Has(RoleAnalyst) || r.Has(RoleSupervisor) || !r.HasAny(RoleSupervisor, RoleAnalyst) || r.HasAny(RoleAuditor) {
		t.Errorf("membership of %q wrong", r)
	}
	if one, err := ParseRole("auditor"); err != nil || one != RoleAuditor || one.NeedsTOTP() {
		t.Errorf("auditor alone: %q %v", one, err)
	}
	if both, _ := ParseRole("auditor,analyst"); !both.NeedsTOTP() {
		t.Error("an auditor who is also an analyst sees media: needs TOTP")
	}
	for _, bad := range []string{"", "root", "admin,", "admin,root"} {
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) accepted", bad)
		}
	}
}
