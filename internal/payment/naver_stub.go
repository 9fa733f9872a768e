package payment

import "net/http"

// NaverConfig is a placeholder until the Naver adapter lands.
type NaverConfig struct{ ClientID, ClientSecret, ChainID, PartnerID, BaseURL, ApprovalBase string }

// NewNaver is a placeholder until the Naver adapter lands.
func NewNaver(cfg NaverConfig, client *http.Client) Gateway { panic("naver adapter not merged yet") }
