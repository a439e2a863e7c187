using Microsoft.Playwright;

namespace Calc.Dashboard.Tests;

/// <summary>
/// Full-page PNG screenshots kept as test artifacts in <c>artifacts/screenshots/</c> at the repository root, one per
/// test (named after it), taken whether the test passed or failed: what the page showed is the first thing to look at.
/// </summary>
internal static class Screenshots
{
    public static string Directory { get; } = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");

    public static async Task SaveAsync(IPage page, string name)
    {
        System.IO.Directory.CreateDirectory(Directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Directory, name + ".png"), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Calc.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Could not find the repository root (Calc.slnx) above " + AppContext.BaseDirectory);
    }
}
