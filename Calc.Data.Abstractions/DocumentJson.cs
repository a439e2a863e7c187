using System.Text.Json;
using System.Text.Json.Serialization;

namespace Calc.Data;

internal static class DocumentJson
{
    public static JsonSerializerOptions CreateDefaultOptions() =>
        new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
}
