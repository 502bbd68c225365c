package postgres_test

import (
	"testing"

	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.Open(t, "postgres") })
}
