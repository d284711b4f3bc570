package portal

// formState carries what a resident typed and the message ID of each field's error, so a form that fails
// validation is shown again (422) with every value kept and every problem explained in the resident's language.
type formState struct {
	Values map[string]string
	Errors map[string]string // field → message ID
	Error  string            // message ID of an error about the whole form
}

func newForm() *formState {
	return &formState{Values: map[string]string{}, Errors: map[string]string{}}
}

// fail records a field error; an empty message ID records nothing, so validators' results can be passed as they are.
func (f *formState) fail(field, msg string) {
	if msg != "" {
		f.Errors[field] = msg
	}
}

func (f *formState) ok() bool { return len(f.Errors) == 0 && f.Error == "" }
