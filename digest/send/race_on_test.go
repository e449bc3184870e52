//go:build race

package send

const raceOn = true
