// Package config loads the worker's settings from the environment with
// go-envconfig: [Settings] from AUTOEXPOSURES_* variables and [Temporal]
// from the standard TEMPORAL_* connection variables. Loading reports every
// problem at once, so an operator fixes the environment in one pass.
package config
