package cert

import (
	"fmt"
	"slices"
)

// Reminders holds an issuer's lead times of reminders (the profile field
// "reminders"). An issuer without it uses DefaultReminders.
type Reminders struct {
	// SurveillanceOpen sends a reminder on the day a surveillance window
	// opens.
	SurveillanceOpen bool `json:"surveillanceOpen"`
	// SurveillanceCloseDays lists how many days before a window closes a
	// reminder is sent while no audit is recorded; empty sends none.
	SurveillanceCloseDays []int `json:"surveillanceCloseDays"`
	// ExpiryDays lists how many days before expiry a reminder is sent;
	// empty sends none.
	ExpiryDays []int `json:"expiryDays"`
}

// Bounds of the lead times of reminders.
const (
	MaxReminderDays  = 365
	MaxReminderLeads = 5
)

// DefaultReminders returns the lead times of an issuer that sets none.
func DefaultReminders() Reminders {
	return Reminders{SurveillanceOpen: true, SurveillanceCloseDays: []int{30}, ExpiryDays: []int{180, 90, 30}}
}

// RemindersOf returns the issuer's lead times, or the defaults.
func (is *Issuer) RemindersOf() Reminders {
	if is == nil || is.Reminders == nil {
		return DefaultReminders()
	}
	return is.Reminders.Clone()
}

// Clone returns a deep copy.
func (r Reminders) Clone() Reminders {
	r.SurveillanceCloseDays = slices.Clone(r.SurveillanceCloseDays)
	r.ExpiryDays = slices.Clone(r.ExpiryDays)
	return r
}

// Equal reports whether r and o have the same lead times in the same
// order.
func (r Reminders) Equal(o Reminders) bool {
	return r.SurveillanceOpen == o.SurveillanceOpen && slices.Equal(r.SurveillanceCloseDays, o.SurveillanceCloseDays) && slices.Equal(r.ExpiryDays, o.ExpiryDays)
}

// validate adds the errors of r to v, naming fields under prefix.
func (r *Reminders) validate(prefix string, v *ValidationError) {
	days := func(field string, list []int) {
		if len(list) > MaxReminderLeads {
			v.Add(prefix+field, fmt.Sprintf("must list at most %d lead times", MaxReminderLeads))
		}
		seen := map[int]bool{}
		for i, d := range list {
			f := fmt.Sprintf("%s%s[%d]", prefix, field, i)
			switch {
			case d < 1 || d > MaxReminderDays:
				v.Add(f, fmt.Sprintf("must be a number of days from 1 to %d", MaxReminderDays))
			case seen[d]:
				v.Add(f, fmt.Sprintf("duplicate lead time %d: each number of days may appear once", d))
			}
			seen[d] = true
		}
	}
	days("surveillanceCloseDays", r.SurveillanceCloseDays)
	days("expiryDays", r.ExpiryDays)
}
