"""Frame sources (camera, stream, video file, image folder) and the latest-frame reader."""
