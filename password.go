package audittrail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password the service accepts
// (NIST SP 800-63B asks for at least 8).
const MinPasswordLength = 8

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// ValidatePassword applies the password policy.
func ValidatePassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return Errorf(EVALIDATION, "password must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 1024 {
		return Errorf(EVALUETOOLONG, "password must be at most 1024 bytes")
	}
	return nil
}

// HashPassword returns an Argon2id hash of pw in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// CheckPassword reports whether pw matches a hash made by HashPassword, in
// constant time.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewSecret returns a new random credential with a prefix that tells its
// kind ("atk_" publisher key, "att_" user token).
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how publisher keys and tokens are stored and looked up:
// their SHA-256 (they are random 256-bit secrets, so no slow hash is needed).
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// MaxCredentialLength bounds a bearer credential: longer ones are not
// looked up, since none that the service issues is.
const MaxCredentialLength = 256

// Authenticate finds the principal behind a bearer credential: the
// operator token (compared in constant time; "" turns it off), else a
// publisher key or user token of the store. An unknown, revoked or expired
// credential, or one too long to be any, is EUNAUTHENTICATED.
func Authenticate(ctx context.Context, store interface {
	Authenticate(ctx context.Context, hash []byte) (*Principal, error)
}, operatorToken, token string) (*Principal, error) {
	if operatorToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(operatorToken)) == 1 {
		return &Principal{Kind: PrincipalOperator}, nil
	}
	invalid := Errorf(EUNAUTHENTICATED, "the credential is not valid: it is unknown, revoked or expired")
	if len(token) > MaxCredentialLength {
		return nil, invalid
	}
	p, err := store.Authenticate(ctx, HashSecret(token))
	if ErrorCode(err) == EUNAUTHENTICATED {
		return nil, invalid
	}
	return p, err
}
