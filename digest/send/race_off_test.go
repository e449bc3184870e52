//go:build !race

package send

const raceOn = false
