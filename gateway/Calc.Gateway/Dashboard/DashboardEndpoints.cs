using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Calc.Gateway.Dashboard;

/// <summary>
/// The web dashboard at <c>/dashboard/</c>: static HTML, CSS and vanilla JavaScript embedded in the gateway's assembly
/// (no content root, no Node toolchain), which call the public API on the same origin (<c>/calculations</c>,
/// <c>/jobs</c>, <c>/status</c>). Served by its own endpoints rather than the static-files middleware, so that the
/// forwarding routes, the rate limiter and the status-code pages see an ordinary endpoint.
/// </summary>
internal static class DashboardEndpoints
{
    public const string Path = "/dashboard";

    private const string ResourcePrefix = "Dashboard/";
    private const string IndexFile = "index.html";

    // What the page may load and call: only this origin; no inline script or style, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var assets = LoadAssets(typeof(DashboardEndpoints).Assembly);
        // One template matches /dashboard, /dashboard/ and /dashboard/<file> (routing ignores a trailing slash).
        app.MapMethods(Path + "/{file?}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string? file) => Serve(context, file, assets))
            .WithName("Dashboard")
            .ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(HttpContext context, string? file, FrozenDictionary<string, Asset> assets)
    {
        var request = context.Request;
        if (file is null && !(request.Path.Value ?? "").EndsWith('/'))
        {
            // The page's relative links (dashboard.css, dashboard.js) resolve against /dashboard/, not /dashboard.
            return Results.Redirect(request.PathBase + Path + "/" + request.QueryString);
        }

        if (!assets.TryGetValue(file ?? IndexFile, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache"; // revalidate each time (cheap: 304 on the ETag), so a new gateway's page is seen at once
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> LoadAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"";
            assets[name[ResourcePrefix.Length..]] = new Asset(content, ContentTypeOf(name), etag);
        }

        return assets.ContainsKey(IndexFile)
            ? assets.ToFrozenDictionary(StringComparer.Ordinal)
            : throw new InvalidOperationException($"The dashboard's {IndexFile} is not embedded in {assembly.GetName().Name}.");
    }

    private static string ContentTypeOf(string name) => System.IO.Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
