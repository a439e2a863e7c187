// Each class starts several processes (a gateway with services, or a whole `calc up`): one class at a time on 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
