package main

import "github.com/spf13/cobra"

func newEdgeCmd() *cobra.Command {
	c := &cobra.Command{Use: "edge", Short: "Edge & marketplace operations"}
	c.AddCommand(newRollbackCmd())
	return c
}
