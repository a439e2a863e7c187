namespace Calc.Testing;

/// <summary>Finds an app's build output in the configuration and framework the tests were built in (bin/&lt;Configuration&gt;/&lt;tfm&gt;/).</summary>
public static class BuildOutput
{
    /// <summary>The path of the app's main assembly, e.g. for <c>services/Calc.Calculations</c>.</summary>
    public static string Find(string projectDirectory)
    {
        ArgumentNullException.ThrowIfNull(projectDirectory);
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Calc.slnx")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Could not find the repository root (Calc.slnx) above " + AppContext.BaseDirectory);
        }

        var name = Path.GetFileName(projectDirectory.TrimEnd('/'));
        var assembly = Path.Combine(root.FullName, projectDirectory, "bin", configuration, framework, name + ".dll");
        return File.Exists(assembly)
            ? assembly
            : throw new FileNotFoundException($"Build {projectDirectory} ({configuration}) first: {assembly} does not exist.", assembly);
    }
}
