package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// readDependencies reads which stacks each stack depends on from the
// synthesized manifest (the AddDependency edges and cross-stack
// references the app declared).
func readDependencies(manifest string) (map[string][]string, error) {
	raw, err := os.ReadFile(manifest)
	if err != nil {
		return nil, err
	}
	var m struct {
		Stacks map[string]struct {
			Dependencies []string `json:"dependencies"`
		} `json:"stacks"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifest, err)
	}
	out := map[string][]string{}
	for id, s := range m.Stacks {
		out[id] = s.Dependencies
	}
	return out, nil
}

// inOrder runs f for every stack as soon as the stacks it waits for are
// done: its dependencies (forward, for applies) or the stacks that depend
// on it (reverse, for destroys). Stacks outside the set are not waited
// for. Independent stacks run at the same time; a stack whose prerequisite
// failed is not run and reported as skipped. It returns every failure.
func inOrder(stacks []terraform.Stack, deps map[string][]string, reverse bool, f func(terraform.Stack) error) error {
	in := map[string]bool{}
	for _, st := range stacks {
		in[st.ID] = true
	}
	waitFor := map[string][]string{}
	for _, st := range stacks {
		for _, d := range deps[st.ID] {
			if !in[d] {
				continue
			}
			if reverse {
				waitFor[d] = append(waitFor[d], st.ID)
			} else {
				waitFor[st.ID] = append(waitFor[st.ID], d)
			}
		}
	}
	done := map[string]chan struct{}{}
	for _, st := range stacks {
		done[st.ID] = make(chan struct{})
	}
	var mu sync.Mutex
	failed := map[string]error{}
	var wg sync.WaitGroup
	for _, st := range stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[st.ID])
			for _, w := range waitFor[st.ID] {
				<-done[w]
			}
			mu.Lock()
			for _, w := range waitFor[st.ID] {
				if failed[w] != nil {
					failed[st.ID] = fmt.Errorf("%s skipped: %s failed", st.ID, w)
					mu.Unlock()
					return
				}
			}
			mu.Unlock()
			if err := f(st); err != nil {
				mu.Lock()
				failed[st.ID] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var errs []error
	for _, st := range stacks { // in deploy order, so the first cause comes first
		if err := failed[st.ID]; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
