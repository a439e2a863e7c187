namespace Calc.Jobs.Domain;

/// <summary>
/// What a process of this service does (<c>--role</c> on the command line, <c>Role</c> in configuration): <c>all</c>
/// (default: the API and workers), <c>api</c> (the API only) or <c>worker</c> (workers only; it still serves
/// <c>/health/*</c> and <c>/status</c>). Any number of worker processes may consume the same queue.
/// </summary>
internal sealed record ServiceRole(bool ServesApi, bool RunsWorkers)
{
    public string Name => (ServesApi, RunsWorkers) switch
    {
        (true, true) => "all",
        (true, false) => "api",
        _ => "worker",
    };

    public static ServiceRole Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "all" => new ServiceRole(ServesApi: true, RunsWorkers: true),
        "api" => new ServiceRole(ServesApi: true, RunsWorkers: false),
        "worker" => new ServiceRole(ServesApi: false, RunsWorkers: true),
        _ => throw new InvalidOperationException($"Role must be all, api or worker, not '{value}'."),
    };
}
