package audittrail

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention is how long records are kept: a number of calendar months, or
// a fixed duration.
type Retention struct {
	Months   int
	Duration time.Duration
}

// DefaultRetention is 13 months.
var DefaultRetention = Retention{Months: 13}

// ParseRetention reads "13mo" (months) or any Go duration ("36h").
func ParseRetention(s string) (Retention, error) {
	if n, ok := strings.CutSuffix(s, "mo"); ok {
		m, err := strconv.Atoi(n)
		if err != nil || m <= 0 || m > 1200 {
			return Retention{}, fmt.Errorf("retention %q: months must be a positive whole number, as in 13mo", s)
		}
		return Retention{Months: m}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Retention{}, fmt.Errorf("retention %q: use months (13mo) or a Go duration (36h)", s)
	}
	return Retention{Duration: d}, nil
}

// Start returns the oldest moment inside the window that ends at now.
func (r Retention) Start(now time.Time) time.Time {
	if r.Months > 0 {
		return now.AddDate(0, -r.Months, 0)
	}
	return now.Add(-r.Duration)
}

func (r Retention) String() string {
	if r.Months > 0 {
		return strconv.Itoa(r.Months) + "mo"
	}
	return r.Duration.String()
}
