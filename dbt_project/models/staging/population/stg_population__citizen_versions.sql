{#- Every version of the source's rows ever staged, normalised once (as_of-free part; macros/staging_versions.sql) -#}
{{ versions_model(source('population', 'citizen'), stg_population__citizen_version('versions_source'), 'population', 'citizen') }}  -- noqa: PRS
