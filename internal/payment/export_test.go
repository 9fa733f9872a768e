package payment

import "time"

// Retries wait a millisecond in tests: what is tested is how many attempts
// are made, not how long they wait.
func init() { retryBackoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond} }

// RetryAttempts is how many times an idempotent call is tried.
func RetryAttempts() int { return len(retryBackoff) + 1 }
