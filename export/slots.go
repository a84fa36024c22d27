package export

import (
	"sync"

	"github.com/audittrail/audittrail"
)

// MaxPerAccount bounds the exports an account runs at once, so that one
// account cannot take the machine from the others.
const MaxPerAccount = 2

// Slots counts the exports running per account in this process, whichever
// API started them. The zero value is ready to use.
type Slots struct {
	mu      sync.Mutex
	running map[string]int
}

// Acquire takes a slot of the account, or returns EEXPORTBUSY when
// MaxPerAccount exports of it are running.
func (e *Slots) Acquire(account string) (release func(), err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running == nil {
		e.running = map[string]int{}
	}
	if e.running[account] >= MaxPerAccount {
		return nil, audittrail.Errorf(audittrail.EEXPORTBUSY, "%d exports of this account are already running; try again when one has finished", MaxPerAccount)
	}
	e.running[account]++
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.running[account]--; e.running[account] == 0 {
			delete(e.running, account)
		}
	}, nil
}
