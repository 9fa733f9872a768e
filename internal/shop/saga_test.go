package shop

import (
	"slices"
	"testing"
)

func TestSagaTransitions(t *testing.T) {
	allowed := map[[2]SagaState]bool{
		{SagaRunning, SagaCompensating}: true, {SagaRunning, SagaCompleted}: true,
		{SagaCompensating, SagaCompensated}: true, {SagaCompleted, SagaCancelling}: true,
		{SagaCancelling, SagaCancelled}: true,
	}
	for _, from := range SagaStates {
		for _, to := range SagaStates {
			if got := from.CanMove(to); got != allowed[[2]SagaState{from, to}] {
				t.Errorf("%s → %s: CanMove = %v", from, to, got)
			}
		}
	}
	if got := MovesTo(SagaCompensating); !slices.Equal(got, []SagaState{SagaRunning}) {
		t.Errorf("MovesTo(compensating) = %v", got)
	}
	for _, s := range SagaStates {
		want := s == SagaRunning || s == SagaCompensating || s == SagaCancelling
		if s.Unfinished() != want || slices.Contains(UnfinishedSagaStates, s) != want {
			t.Errorf("%s unfinished = %v", s, s.Unfinished())
		}
	}
	if _, err := ParseSagaState("lost"); err == nil {
		t.Error("saga state lost accepted")
	}
}
