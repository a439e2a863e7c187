namespace Calc.LocalServers;

/// <summary>
/// Finds an app's build output in the configuration and framework the calling program was built in
/// (bin/&lt;Configuration&gt;/&lt;tfm&gt;/): a test project or the <c>calc</c> CLI, both inside the repository.
/// </summary>
public static class BuildOutput
{
    /// <summary>The path of the app's main assembly, e.g. for <c>services/Calc.Calculations</c>.</summary>
    /// <param name="projectDirectory">The project's directory, relative to the repository root.</param>
    /// <param name="assemblyName">The assembly's name when it is not the directory's (<c>calc</c> for <c>cli/Calc.Cli</c>).</param>
    public static string Find(string projectDirectory, string? assemblyName = null)
    {
        ArgumentNullException.ThrowIfNull(projectDirectory);
        var ownDirectory = AppContext.BaseDirectory;
        var ownOutput = new DirectoryInfo(ownDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = ownOutput.Name;
        var configuration = ownOutput.Parent!.Name;
        var root = ownOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Calc.slnx")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Could not find the repository root (Calc.slnx) above " + ownDirectory);
        }

        var name = assemblyName ?? Path.GetFileName(projectDirectory.TrimEnd('/'));
        var assembly = Path.Combine(root.FullName, projectDirectory, "bin", configuration, framework, name + ".dll");
        return File.Exists(assembly)
            ? assembly
            : throw new FileNotFoundException($"Build {projectDirectory} ({configuration}) first: {assembly} does not exist.", assembly);
    }
}
