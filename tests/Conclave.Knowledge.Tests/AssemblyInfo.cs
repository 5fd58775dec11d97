// Embedding is CPU-bound on a 2-core machine: one class at a time keeps the tests' deadlines honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
