-- paycore 1.3: built by the Makefile from src/sql/; edit the pieces, not this file.
\echo Use "CREATE EXTENSION paycore CASCADE" to load this file. \quit
