// One system and one browser for all dashboard tests (DashboardGroup); they start several processes on 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
