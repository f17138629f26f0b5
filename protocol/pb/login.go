package pb

import (
	"context"
	"crypto/md5"
	"fmt"

	"github.com/buildslave/buildslave/protocol/jelly"
)

// Login performs twisted.cred's username/password login over PB: the root
// object's challenge, then the challenger's respond call carrying the
// response and mind, the object the master will call. It returns the
// perspective: the master's object for this worker.
//
// The master calls mind while respond is still pending; that works because
// incoming calls are served independently of our waiting.
func (b *Broker) Login(ctx context.Context, username, password []byte, mind Object) (*RemoteReference, error) {
	v, err := b.Root(ctx, "login", username)
	if err != nil {
		return nil, fmt.Errorf("pb login: asking for a challenge: %w", err)
	}
	pair, ok := v.(jelly.Tuple)
	if !ok || len(pair) != 2 {
		return nil, fmt.Errorf("pb login: the challenge is %s, not a pair", jelly.TypeName(v))
	}
	challenge, ok := pair[0].([]byte)
	challenger, ok2 := pair[1].(*RemoteReference)
	if !ok || !ok2 {
		DecrefAll(pair)
		return nil, fmt.Errorf("pb login: unexpected challenge (%s, %s)", jelly.TypeName(pair[0]), jelly.TypeName(pair[1]))
	}
	p, err := challenger.Start("respond", ChallengeResponse(password, challenge), mind)
	// The challenger is single-use: drop it now, as the reference does.
	challenger.Decref()
	if err != nil {
		return nil, fmt.Errorf("pb login: %w", err)
	}
	v, err = p.Wait(ctx)
	if err != nil {
		return nil, err
	}
	perspective, ok := v.(*RemoteReference)
	if !ok {
		DecrefAll(v)
		return nil, fmt.Errorf("pb login: the master answered %s, not a perspective", jelly.TypeName(v))
	}
	return perspective, nil
}

// ChallengeResponse computes md5(md5(password) + challenge), the proof of
// the password that twisted.cred's PB login expects.
func ChallengeResponse(password, challenge []byte) []byte {
	inner := md5.Sum(password)
	h := md5.New()
	h.Write(inner[:])
	h.Write(challenge)
	return h.Sum(nil)
}
