package main

import (
	"context"
	"errors"
)

// Temporary: the spine's commands land here file by file.
func runServe(ctx context.Context, env *Env, args []string) error       { return errors.New("todo") }
func runMigrate(ctx context.Context, env *Env, args []string) error     { return errors.New("todo") }
func runUser(ctx context.Context, env *Env, args []string) error        { return errors.New("todo") }
func runAPIKey(ctx context.Context, env *Env, args []string) error      { return errors.New("todo") }
func runJobs(ctx context.Context, env *Env, args []string) error        { return errors.New("todo") }
func runBank(ctx context.Context, env *Env, args []string) error        { return errors.New("todo") }
func runMatch(ctx context.Context, env *Env, args []string) error       { return errors.New("todo") }
func runBenchIntake(ctx context.Context, env *Env, args []string) error { return errors.New("todo") }
