namespace Calc.Cache.Client;

/// <summary>How <see cref="CacheClient.SetAsync(string, string, TimeSpan?, SetCondition, CancellationToken)"/> treats an existing key.</summary>
public enum SetCondition
{
    /// <summary>Set the key whether or not it exists.</summary>
    Always,

    /// <summary>Set only if the key does not exist (NX).</summary>
    IfNotExists,

    /// <summary>Set only if the key already exists (XX).</summary>
    IfExists,
}
