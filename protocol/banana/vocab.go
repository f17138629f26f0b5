package banana

// vocabulary is the "pb" dialect's fixed word table (PB.md §1.5), indexed by
// VOCAB number; index 0 is unused. It is a constant table, never modified.
var vocabulary = [...]string{
	1:  "None",
	2:  "class",
	3:  "dereference",
	4:  "reference",
	5:  "dictionary",
	6:  "function",
	7:  "instance",
	8:  "list",
	9:  "module",
	10: "persistent",
	11: "tuple",
	12: "unpersistable",
	13: "copy",
	14: "cache",
	15: "cached",
	16: "remote",
	17: "local",
	18: "lcache",
	19: "version",
	20: "login",
	21: "password",
	22: "challenge",
	23: "logged_in",
	24: "not_logged_in",
	25: "cachemessage",
	26: "message",
	27: "answer",
	28: "error",
	29: "decref",
	30: "decache",
	31: "uncache",
}

// vocabWord returns the word with VOCAB index i.
func vocabWord(i uint64) (string, bool) {
	if i == 0 || i >= uint64(len(vocabulary)) {
		return "", false
	}
	return vocabulary[i], true
}

// longestWord is the length of the longest vocabulary word.
const longestWord = len("not_logged_in")

// vocabIndex returns the VOCAB index of s. It is a switch rather than a map
// built at init so that the encoder's hot path neither allocates nor depends
// on package state; TestVocabularyTable keeps it in step with vocabulary.
func vocabIndex(s string) (int, bool) {
	switch s {
	case "None":
		return 1, true
	case "class":
		return 2, true
	case "dereference":
		return 3, true
	case "reference":
		return 4, true
	case "dictionary":
		return 5, true
	case "function":
		return 6, true
	case "instance":
		return 7, true
	case "list":
		return 8, true
	case "module":
		return 9, true
	case "persistent":
		return 10, true
	case "tuple":
		return 11, true
	case "unpersistable":
		return 12, true
	case "copy":
		return 13, true
	case "cache":
		return 14, true
	case "cached":
		return 15, true
	case "remote":
		return 16, true
	case "local":
		return 17, true
	case "lcache":
		return 18, true
	case "version":
		return 19, true
	case "login":
		return 20, true
	case "password":
		return 21, true
	case "challenge":
		return 22, true
	case "logged_in":
		return 23, true
	case "not_logged_in":
		return 24, true
	case "cachemessage":
		return 25, true
	case "message":
		return 26, true
	case "answer":
		return 27, true
	case "error":
		return 28, true
	case "decref":
		return 29, true
	case "decache":
		return 30, true
	case "uncache":
		return 31, true
	}
	return 0, false
}
